using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Graph;
using static Cocoon.Agent.Tests.Inference.OperatorConformanceTests;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// The memory planner: after a first run with a set of input shapes, runs with those shapes write their
/// activations into one arena at planned offsets, sized to the values alive at once rather than all of
/// them, and give exactly what an unplanned run gives. (Every ONNX Runtime comparison also runs each
/// model a second time from its plan: <see cref="OrtReference.RunPlanned"/>.)
/// </summary>
public sealed class MemoryPlanTests
{
    public static TheoryData<string, int> Cases => new() { { "mlp", 1 }, { "mlp", 32 }, { "cnn", 1 }, { "cnn", 8 }, { "transformer", 1 }, { "transformer", 4 } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_reference_models_run_from_a_plan_about_the_size_of_their_live_set(string name, int batch)
    {
        var reference = ReferenceModels.All.Single(m => m.Name == name);
        var model = OnnxModel.Load(reference.Onnx);
        var feeds = Feeds((reference.Input, RandomTensor(new Random(batch), reference.InputShape(batch), -1, 1)));

        var traced = model.Run(feeds);
        Assert.False(model.LastRunMemory.Planned);
        var planned = OrtReference.RunPlanned(model, feeds, traced);
        var memory = model.LastRunMemory;

        // Every intermediate value of these models is planned: all but the output, which leaves the run.
        Assert.True(memory.Groups >= 3, $"{memory}");
        Assert.True(memory.PlanBytes < memory.SumBytes, $"no reuse: {memory}");
        Assert.True(memory.PlanBytes <= (memory.PeakLiveBytes * 5 / 4) + (64 * memory.Groups), $"the arena is well above the live set: {memory}");
        Assert.Equal(traced.Keys, planned.Keys);
    }

    [Fact]
    public void A_chain_of_values_needs_two_regions_not_one_per_value()
    {
        // x → ten ReLUs in a chain → y: each value is alive only beside the one before and after it.
        var model = OnnxModel.Load(ReluChain(10));
        var feeds = Feeds(("x", RandomTensor(new Random(1), [1000, 1000], -1, 1)));
        var traced = model.Run(feeds);
        OrtReference.RunPlanned(model, feeds, traced);

        var memory = model.LastRunMemory;
        Assert.Equal(9, memory.Groups);
        Assert.Equal(9 * 4_000_000L, memory.SumBytes);
        Assert.Equal(2 * 4_000_000L, memory.PlanBytes); // two regions, used in turn
    }

    /// <summary>
    /// x [1000, 1000] → <paramref name="links"/> ReLUs in a chain → y: twelve 4 MB values for ten links,
    /// at most two alive beside the input. Each is a LeakyRelu with α = 0 (a ReLU that takes an
    /// attribute), which element-wise chain fusion leaves as a node of its own, so each value is real.
    /// </summary>
    internal static byte[] ReluChain(int links)
    {
        var builder = new OnnxGraphBuilder().Input("x", 1000, 1000).Output("y", 1000, 1000);
        var previous = "x";
        for (var i = 0; i < links; i++)
        {
            builder.Node("LeakyRelu", [previous], i == links - 1 ? "y" : $"h{i}", ("alpha", 0f));
            previous = $"h{i}";
        }

        return builder.Build();
    }

    [Fact]
    public void A_planned_run_writes_no_activation_arrays_of_its_own()
    {
        var reference = ReferenceModels.Cnn();
        var model = OnnxModel.Load(reference.Onnx);
        var feeds = Feeds((reference.Input, RandomTensor(new Random(3), reference.InputShape(32), -1, 1)));
        model.Run(feeds);
        model.Run(feeds);

        var before = GC.GetAllocatedBytesForCurrentThread();
        model.Run(feeds);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The activations of 32 images come to 1.3 MB; what a planned run allocates is bookkeeping.
        Assert.True(model.LastRunMemory.Planned);
        Assert.True(model.LastRunMemory.SumBytes > 1_000_000, $"{model.LastRunMemory}");
        Assert.True(allocated < 200_000, $"a planned run allocated {allocated:N0} bytes");
    }

    [Fact]
    public void Sizes_that_depend_on_the_data_miss_the_plan_stay_correct_and_end_up_unplanned()
    {
        // Tile's repeats are an input: the same input shapes give values of another size.
        var model = OnnxModel.Load(new OnnxGraphBuilder(13).Input("x", 2, 3).Typed("repeats", 7, 2).AnyOutput("y")
            .Node("Tile", ["x", "repeats"], "t").Node("Relu", ["t"], "r").Node("Neg", ["r"], "y").Build());
        var x = RandomTensor(new Random(5), [2, 3], -1, 1);
        Tensor Expected(int times) => new([2 * times, 3], [.. Enumerable.Range(0, 6 * times).Select(i => -Math.Max(x.Data[i % 6], 0f))]);

        var planned = new List<bool>();
        var misses = new List<int>();
        foreach (var times in new[] { 2, 3, 2, 3, 2, 3, 2, 3, 2 })
        {
            var y = model.Run(Feeds(("x", x), ("repeats", Tensor.OfLongs([2], [times, 1]))))["y"];
            Assert.Equal(Expected(times).Shape, y.Shape);
            Assert.Equal(Expected(times).Data, y.Data);
            planned.Add(model.LastRunMemory.Planned);
            misses.Add(model.LastRunMemory.Misses);
        }

        // Traced, then planned and missed, three times over; after that the shapes stay unplanned.
        Assert.Equal([false, true, false, true, false, true, false, false, false], planned);
        Assert.All(misses.Where((_, i) => planned[i]), m => Assert.True(m > 0));
    }

    [Fact]
    public void Each_set_of_input_shapes_keeps_its_own_plan()
    {
        var reference = ReferenceModels.Transformer();
        var model = OnnxModel.Load(reference.Onnx);
        var planned = new List<bool>();
        foreach (var (batch, seed) in new[] { (2, 1), (1, 2), (2, 3), (1, 4), (3, 5), (2, 6) })
        {
            var feeds = Feeds((reference.Input, RandomTensor(new Random(seed), reference.InputShape(batch), -1, 1)));
            var expected = OnnxModel.Load(reference.Onnx).Run(feeds);
            model.FillActivations(float.NaN);
            var y = model.Run(feeds)["y"];
            Assert.Equal(expected["y"].Data, y.Data);
            planned.Add(model.LastRunMemory is { Planned: true, Misses: 0, Copies: 0 });
        }

        Assert.Equal([false, false, true, true, false, true], planned);
    }

    [Fact]
    public void Outputs_already_returned_are_never_overwritten_by_later_runs()
    {
        // y is a reshape of an intermediate value: the storage they share leaves the run, so it is never planned.
        var model = OnnxModel.Load(new OnnxGraphBuilder(13).Input("x", 4, 6).AnyOutput("y").AnyOutput("z").Longs("shape", [2], [6, 4])
            .Node("Relu", ["x"], "r").Node("Reshape", ["r", "shape"], "y").Node("Neg", ["x"], "n").Node("Abs", ["n"], "z").Build());
        var outputs = new List<(Tensor Y, float[] Copy)>();
        for (var seed = 0; seed < 4; seed++)
        {
            var y = model.Run(Feeds(("x", RandomTensor(new Random(seed), [4, 6], -1, 1))))["y"];
            Assert.False(y.InArena);
            outputs.Add((y, (float[])y.Data.Clone()));
        }

        Assert.True(model.LastRunMemory.Planned);
        Assert.All(outputs, o => Assert.Equal(o.Copy, o.Y.Data));
    }

    [Fact]
    public void Concurrent_runs_of_one_model_each_give_their_own_answer()
    {
        var reference = ReferenceModels.Cnn();
        var model = OnnxModel.Load(reference.Onnx);
        var inputs = Enumerable.Range(0, 12).Select(i => Feeds((reference.Input, RandomTensor(new Random(i), reference.InputShape(2), -1, 1)))).ToList();
        var expected = inputs.Select(f => OnnxModel.Load(reference.Onnx).Run(f)["logits"].Data).ToList();

        var results = new float[inputs.Count][];
        Parallel.For(0, inputs.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => results[i % inputs.Count] = model.Run(inputs[i % inputs.Count])["logits"].Data);

        for (var i = 0; i < inputs.Count; i++)
        {
            Assert.Equal(expected[i], results[i]);
        }
    }

    [Fact]
    public void Activations_kept_between_runs_are_wiped_on_request()
    {
        // The intermediate values hold the input's planted values (LeakyRelu with α = 1 is the identity,
        // and takes an attribute, so chain fusion leaves each a node of its own); the output leaves the run.
        var model = OnnxModel.Load(new OnnxGraphBuilder().Input("x", 1000).Output("y", 1000)
            .Node("LeakyRelu", ["x"], "n", ("alpha", 1f)).Node("LeakyRelu", ["n"], "a", ("alpha", 1f)).Node("Neg", ["a"], "y").Build());
        var feeds = Feeds(("x", new Tensor([1000], [.. Enumerable.Range(0, 1000).Select(i => 1234.5f + i)])));
        bool Kept(float value) => model.KeptActivations.Any(array => array.AsSpan().Contains(value));

        // The traced run's values went to the pool; once the plan is made they are wiped and let go.
        model.Run(feeds);
        Assert.False(model.LastRunMemory.Planned);
        Assert.False(Kept(1234.5f + 999));

        // The planned run leaves them in the arena until they are wiped.
        model.Run(feeds);
        Assert.True(model.LastRunMemory.Planned);
        Assert.True(Kept(1234.5f + 999), "the run left no activations to wipe, so this test proves nothing");
        model.FillActivations(0f);
        Assert.False(Kept(1234.5f + 999));
        Assert.False(Kept(-1234.5f));

        Assert.Equal(feeds["x"].Data.Select(v => -v), model.Run(feeds)["y"].Data);
    }
}
