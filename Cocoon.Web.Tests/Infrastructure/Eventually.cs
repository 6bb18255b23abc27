namespace Cocoon.Web.Tests.Infrastructure;

public static class Eventually
{
    /// <summary>Polls until the condition holds; fails with <paramref name="what"/> after the timeout.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, int pollMilliseconds = 50)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:N0} s waiting for: {what}");
            }

            await Task.Delay(pollMilliseconds);
        }
    }
}
