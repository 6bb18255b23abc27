using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Operators;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>The kernels' own thread pool: every piece once, errors surfaced, nesting and concurrent callers safe.</summary>
public sealed class WorkersTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(1000)]
    public void Every_piece_runs_exactly_once(int count)
    {
        var runs = new int[count];
        Workers.For(count, i => Interlocked.Increment(ref runs[i]));
        Assert.All(runs, r => Assert.Equal(1, r));
    }

    [Fact]
    public void A_failing_piece_fails_the_call_after_the_others_have_run()
    {
        var ran = 0;
        var error = Assert.Throws<InvalidOperationException>(() => Workers.For(50, i =>
        {
            if (i == 7)
            {
                throw new InvalidOperationException("piece 7");
            }

            Interlocked.Increment(ref ran);
        }));
        Assert.Equal("piece 7", error.Message);
        Assert.Equal(49, ran);

        // The pool is usable again afterwards.
        var after = 0;
        Workers.For(10, _ => Interlocked.Increment(ref after));
        Assert.Equal(10, after);
    }

    /// <summary>A call made while the workers are busy goes to the .NET pool, with the same contract.</summary>
    [Fact]
    public void A_failing_piece_inside_a_nested_call_fails_that_call_alone_and_the_same_way()
    {
        var ran = 0;
        Workers.For(2, outer =>
        {
            if (outer == 0)
            {
                var error = Assert.Throws<InvalidOperationException>(() => Workers.For(30, i =>
                {
                    if (i == 3)
                    {
                        throw new InvalidOperationException("nested piece 3");
                    }

                    Interlocked.Increment(ref ran);
                }));
                Assert.Equal("nested piece 3", error.Message);
            }
        });
        Assert.Equal(29, ran);
    }

    [Fact]
    public void Nested_and_concurrent_calls_complete()
    {
        var total = 0;
        Parallel.For(0, 8, _ => Workers.For(20, __ => Workers.For(5, ___ => Interlocked.Increment(ref total))));
        Assert.Equal(8 * 20 * 5, total);
    }

    [Fact]
    public void Workers_asleep_after_their_spin_wake_for_the_next_call()
    {
        Workers.For(4, _ => { });
        Thread.Sleep(Workers.SpinTime * 5);
        var runs = new int[4];
        Workers.For(4, i => Interlocked.Increment(ref runs[i]));
        Assert.All(runs, r => Assert.Equal(1, r));
    }
}
