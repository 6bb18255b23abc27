using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Memory;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// Two jobs' runs at the same time on one agent — different models, or one cached model shared by two
/// jobs with different rows — never observe each other's values: every output equals, bit for bit,
/// what the same run gives alone, while scratch arrays pass between the runs' threads.
/// </summary>
[Collection(Fuzzing.PoisonCollection.Name)]
public sealed class JobIsolationTests
{
    private sealed record Job(OnnxModel Model, Dictionary<string, Tensor> Feeds, float[] Alone);

    [Fact]
    public void Concurrent_runs_of_different_jobs_never_observe_each_others_values()
    {
        var random = new Random(41);
        Job Make(ReferenceModel reference, OnnxModel? shared = null)
        {
            var model = shared ?? OnnxModel.Load(reference.Onnx);
            var shape = reference.InputShape(3);
            var feeds = new Dictionary<string, Tensor> { [reference.Input] = new(shape, ReferenceModels.Values(random, (int)Tensor.ElementCount(shape), 1f)) };
            return new Job(model, feeds, [.. model.Run(feeds).Values.Single().Data]);
        }

        var cnn = Make(ReferenceModels.Cnn());
        var transformer = ReferenceModels.Transformer(sequence: 16, width: 64, heads: 4, hidden: 128);
        var first = Make(transformer);
        Job[] jobs = [cnn, first, Make(transformer, first.Model), Make(ReferenceModels.Mlp())];
        Assert.NotEqual(jobs[1].Alone, jobs[2].Alone);

        // Scratch comes poisoned while they run together: a kernel reading scratch another run left, or
        // none wrote, would give something else than it gave alone.
        var mismatches = 0;
        Scratch.Poison = float.NaN;
        try
        {
            Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            {
                var job = jobs[i % jobs.Length];
                var output = job.Model.Run(job.Feeds).Values.Single().Data;
                if (!output.AsSpan().SequenceEqual(job.Alone))
                {
                    Interlocked.Increment(ref mismatches);
                }
            });
        }
        finally
        {
            Scratch.Poison = null;
        }

        Assert.Equal(0, mismatches);
    }
}
