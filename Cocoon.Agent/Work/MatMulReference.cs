namespace Cocoon.Agent.Work;

/// <summary>The plain C# product every device result is checked against.</summary>
public static class MatMulReference
{
    public static void MultiplyBatch(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int n, int count)
    {
        var size = n * n;
        for (var m = 0; m < count; m++)
        {
            Multiply(a.Slice(m * size, size), b.Slice(m * size, size), c.Slice(m * size, size), n);
        }
    }

    // i-k-j order walks B and C by rows, which keeps the loop cache-friendly without changing the sum.
    private static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int n)
    {
        c.Clear();
        for (var i = 0; i < n; i++)
        {
            var cRow = c.Slice(i * n, n);
            for (var k = 0; k < n; k++)
            {
                var aik = a[(i * n) + k];
                var bRow = b.Slice(k * n, n);
                for (var j = 0; j < n; j++)
                {
                    cRow[j] += aik * bRow[j];
                }
            }
        }
    }
}
