using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Graph;
using static Cocoon.Agent.Tests.Inference.OperatorConformanceTests;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// Loop and Scan against ONNX Runtime: trip counts and conditions, carried values, scan outputs stacked
/// along any axis in either direction, outer values read from the body, a nested If, and the refusals
/// of bodies that do not fit their node or loops that never end.
/// </summary>
public sealed class ControlFlowTests
{
    /// <summary>acc ← acc + x·i each iteration; stop when i reaches the outer 'stop'; every acc is a scan output.</summary>
    private static byte[] Accumulating(bool nestedIf)
    {
        var body = new OnnxGraphBuilder(17).Typed("i", 7).Typed("cond_in", 9).Input("acc", 2, 3)
            .TypedOutput("cond_out", 9).Output("acc_out", 2, 3).Output("seen", 2, 3)
            .Node("Cast", ["i"], "fi", ("to", 1L))
            .Node("Mul", ["x", "fi"], "step")
            .Node("Add", ["acc", "step"], "acc_out")
            .Node("Less", ["fi", "stop"], "cond_out");
        if (nestedIf)
        {
            // Odd iterations report acc negated: an If inside the body reading the body's own value.
            var then = new OnnxGraphBuilder(17).Output("neg", 2, 3).Node("Neg", ["acc_out"], "neg").BuildGraph();
            var otherwise = new OnnxGraphBuilder(17).Output("same", 2, 3).Node("Identity", ["acc_out"], "same").BuildGraph();
            body.Longs("two", [], [2]).Longs("one", [], [1]).Node("Mod", ["i", "two"], "parity").Node("Equal", ["parity", "one"], "odd")
                .Node("If", ["odd"], "seen", ("then_branch", then), ("else_branch", otherwise));
        }
        else
        {
            body.Node("Identity", ["acc_out"], "seen");
        }

        return new OnnxGraphBuilder(17).Input("x", 2, 3).Input("stop").Typed("m", 7).Typed("c", 9).Input("acc0", 2, 3).AnyOutput("acc").AnyOutput("all")
            .Node("Loop", ["m", "c", "acc0"], ["acc", "all"], ("body", body.BuildGraph())).Build();
    }

    [Theory]
    [InlineData(5, true, 100f, false)]
    [InlineData(1000, true, 3.5f, false)]
    [InlineData(4, true, 100f, true)]
    [InlineData(6, false, 100f, false)]
    public void Loop_runs_to_its_trip_count_or_condition_and_stacks_its_scan_outputs(long trips, bool condition, float stop, bool nestedIf)
    {
        var random = new Random(12);
        OrtReference.AssertSame(Accumulating(nestedIf), Feeds(
            ("x", RandomTensor(random, [2, 3], -1, 1)), ("stop", Tensor.Scalar(stop)), ("m", Tensor.OfLongs([], [trips])),
            ("c", Tensor.OfBools([], [condition])), ("acc0", RandomTensor(random, [2, 3], -1, 1))));
    }

    [Fact]
    public void A_loop_without_a_trip_count_stops_on_its_condition_and_one_that_never_stops_is_refused()
    {
        var body = new OnnxGraphBuilder(17).Typed("i", 7).Typed("cond_in", 9).Input("v", 2).TypedOutput("cond_out", 9).Output("v_out", 2)
            .Node("Add", ["v", "one"], "v_out").Node("ReduceSum", ["v_out"], "total", ("keepdims", 0L)).Node("Less", ["total", "limit"], "cond_out").BuildGraph();
        var model = new OnnxGraphBuilder(17).Input("v0", 2).Input("one", 2).Input("limit").Typed("c", 9).AnyOutput("v")
            .Node("Loop", ["", "c", "v0"], ["v"], ("body", body)).Build();
        var feeds = Feeds(("v0", new Tensor([2], [0f, 1f])), ("one", new Tensor([2], [1f, 1f])), ("limit", Tensor.Scalar(20f)), ("c", Tensor.OfBools([], [true])));
        OrtReference.AssertSame(model, feeds);

        // Adding nothing never reaches the limit: the loop is cut off, not run for ever.
        feeds["one"] = new Tensor([2], [0f, 0f]);
        var error = Assert.Throws<ModelException>(() => OnnxModel.Load(model).Run(feeds));
        Assert.Contains($"{ControlFlowLimit:N0} iterations", error.Message, StringComparison.Ordinal);
    }

    private const int ControlFlowLimit = 1 << 20;

    [Theory]
    [InlineData(new long[] { 0, 1 }, new long[] { 0, 1 }, new long[] { 0, 1 }, new long[] { 0, 1 })]
    [InlineData(new long[] { 0, -1 }, new long[] { 1, 0 }, new long[] { 1, 0 }, new long[] { 1, 1 })]
    public void Scan_slices_its_inputs_carries_its_state_and_stacks_its_outputs(long[] inputAxes, long[] inputDirections, long[] outputAxes, long[] outputDirections)
    {
        var body = new OnnxGraphBuilder(17).Input("s", 3).Input("a_t", 3).Input("b_t", 3).Output("s_out", 3).Output("running", 3).Output("difference", 3)
            .Node("Mul", ["a_t", "b_t"], "product").Node("Add", ["s", "product"], "s_out").Node("Mul", ["s_out", "scale"], "running").Node("Sub", ["a_t", "b_t"], "difference").BuildGraph();
        var model = new OnnxGraphBuilder(17).Input("s0", 3).Input("a", 4, 3).Input("b", 3, 4).Input("scale").AnyOutput("s").AnyOutput("r").AnyOutput("d")
            .Node("Scan", ["s0", "a", "b"], ["s", "r", "d"], ("body", body), ("num_scan_inputs", 2L), ("scan_input_axes", inputAxes), ("scan_input_directions", inputDirections),
                ("scan_output_axes", outputAxes), ("scan_output_directions", outputDirections)).Build();
        var random = new Random(14);
        OrtReference.AssertSame(model, Feeds(
            ("s0", RandomTensor(random, [3], -1, 1)), ("a", RandomTensor(random, [4, 3], -1, 1)), ("b", RandomTensor(random, [3, 4], -1, 1)), ("scale", Tensor.Scalar(0.5f))));
    }

    [Fact]
    public void A_loop_bills_the_flops_its_body_ran_and_a_profile_lists_the_bodys_nodes()
    {
        // Each iteration multiplies a 4 × 8 matrix by an 8 × 8 weight (2 · 4 · 8 · 8 = 512 FLOPs) and hands on
        // its condition (Identity, billed one per element).
        var body = new OnnxGraphBuilder(17).Typed("i", 7).Typed("cond_in", 9).Input("v", 4, 8).TypedOutput("cond_out", 9).Output("v_out", 4, 8)
            .Node("Identity", ["cond_in"], "cond_out").Node("MatMul", ["v", "w"], "v_out").BuildGraph();
        var model = OnnxModel.Load(new OnnxGraphBuilder(17).Input("v0", 4, 8).Typed("m", 7).AnyOutput("v")
            .Initializer("w", [8, 8], [.. Enumerable.Range(0, 64).Select(i => i % 9 == 0 ? 1f : 0f)])
            .Node("Loop", ["m", "", "v0"], ["v"], ("body", body)).Build());
        var profile = new Cocoon.Agent.Inference.Bench.OperatorProfile();
        model.Run(Feeds(("v0", new Tensor([4, 8], new float[32])), ("m", Tensor.OfLongs([], [5]))), null, out var flops, out _, profile);
        Assert.Equal(5 * (512 + 1), flops);
        Assert.Contains(profile.Entries, e => e.Operator == "MatMul" && e.Nodes == 5);
    }

    [Fact]
    public void Bodies_that_do_not_fit_their_node_are_refused_at_load_by_name()
    {
        var shortBody = new OnnxGraphBuilder(17).Typed("i", 7).Typed("cond_in", 9).TypedOutput("cond_out", 9).Node("Identity", ["cond_in"], "cond_out").BuildGraph();
        var loop = new OnnxGraphBuilder(17).Input("v0", 2).Typed("m", 7).AnyOutput("v").Node("Loop", ["m", "", "v0"], ["v"], ("body", shortBody)).Build();
        var error = Assert.Throws<ModelException>(() => OnnxModel.Load(loop));
        Assert.Contains("Loop (node 'loop_0'): 1 carried value(s) need a body of 3 inputs", error.Message, StringComparison.Ordinal);

        var scanBody = new OnnxGraphBuilder(17).Input("s", 3).Output("s_out", 3).Node("Identity", ["s"], "s_out").BuildGraph();
        var scan = new OnnxGraphBuilder(17).Input("s0", 3).Input("a", 4, 3).AnyOutput("s").Node("Scan", ["s0", "a"], ["s"], ("body", scanBody), ("num_scan_inputs", 1L)).Build();
        error = Assert.Throws<ModelException>(() => OnnxModel.Load(scan));
        Assert.Contains("Scan (node 'scan_0')", error.Message, StringComparison.Ordinal);

        var unsupported = new OnnxGraphBuilder(17).Typed("i", 7).Typed("cond_in", 9).Input("v", 2).TypedOutput("cond_out", 9).Output("v_out", 2)
            .Node("Identity", ["cond_in"], "cond_out").Node("Det", ["v"], "v_out").BuildGraph();
        error = Assert.Throws<ModelException>(() => OnnxModel.Load(new OnnxGraphBuilder(17).Input("v0", 2).Typed("m", 7).AnyOutput("v").Node("Loop", ["m", "", "v0"], ["v"], ("body", unsupported)).Build()));
        Assert.Contains("the body cannot run", error.Message, StringComparison.Ordinal);
        Assert.Contains("Det", error.Message, StringComparison.Ordinal);
    }
}
