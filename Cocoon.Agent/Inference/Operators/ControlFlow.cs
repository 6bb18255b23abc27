using System.Runtime.CompilerServices;
using Onnx;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// Control flow with subgraphs: <c>If</c>, <c>Loop</c> and <c>Scan</c>. Each subgraph is loaded (and
/// checked) with the model as a model of its own whose inputs are its formal inputs and the outer values
/// it reads; the node names those outer values as extra inputs, so the plan keeps them alive until the
/// subgraph has run and hands them to it. Subgraphs run on the CPU kernels (a GPU run's values come back
/// to the host for them), nested ones included; the node bills the FLOPs its subgraphs ran, and a
/// profiled run lists their nodes too.
/// </summary>
[OperatorFamily]
internal static class ControlFlow
{
    /// <summary>Most iterations one Loop may run: a loop with neither a trip count nor a condition that ends is refused, not run for ever.</summary>
    public const int MaxIterations = 1 << 20;

    /// <summary>The loaded subgraphs of each prepared node, how many inputs the node had before, and the outer values it captured.</summary>
    private static readonly ConditionalWeakTable<NodeProto, Subgraphs> Compiled = [];

    /// <param name="Parameters">Each subgraph's own inputs, in order (the iteration number, condition and carried values of a Loop body…).</param>
    /// <param name="Declared">Each output of the first subgraph as it declares it (element type and sizes, null where unknown): what a Loop or Scan that ran no iteration stacks none of.</param>
    private sealed record Subgraphs(OnnxModel[] Graphs, string[][] Parameters, int Formal, string[] Captured, (int Type, int[]? Shape)[] Declared);

    private static readonly string[] SubgraphAttributes = ["then_branch", "else_branch", "body"];

    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return new OperatorSchema
        {
            Name = "If",
            SinceOpset = 6,
            Attributes = [new AttributeDeclaration("then_branch", AttributeProto.Types.AttributeType.Graph), new AttributeDeclaration("else_branch", AttributeProto.Types.AttributeType.Graph)],
            Inputs = Arity.Any,
            Outputs = new(1, int.MaxValue),
            InputTypes = [[ElementType.Bool], ElementTypes.Any],
            Shape = c => [.. c.Node.Output.Select(_ => (long[]?)null)],
            Flops = (c, _) => c.SubgraphFlops,
            Run = RunIf,
        };
        yield return new OperatorSchema
        {
            Name = "Loop",
            SinceOpset = 6,
            Attributes = [new AttributeDeclaration("body", AttributeProto.Types.AttributeType.Graph)],
            Inputs = new(2, int.MaxValue),
            Outputs = new(1, int.MaxValue),
            InputTypes = [ElementTypes.Integer, ElementTypes.Bool, ElementTypes.Any],
            Shape = c => [.. c.Node.Output.Select(_ => (long[]?)null)],
            Flops = (c, _) => c.SubgraphFlops,
            Run = RunLoop,
        };
        yield return new OperatorSchema
        {
            Name = "Scan",
            SinceOpset = 9,
            Attributes =
            [
                new AttributeDeclaration("body", AttributeProto.Types.AttributeType.Graph), AttributeDeclaration.Int("num_scan_inputs", 1, int.MaxValue),
                AttributeDeclaration.Ints("scan_input_axes"), AttributeDeclaration.Ints("scan_input_directions", 0, 1),
                AttributeDeclaration.Ints("scan_output_axes"), AttributeDeclaration.Ints("scan_output_directions", 0, 1),
            ],
            Inputs = Arity.Any,
            Outputs = new(1, int.MaxValue),
            Shape = c => [.. c.Node.Output.Select(_ => (long[]?)null)],
            Flops = (c, _) => c.SubgraphFlops,
            Run = RunScan,
        };
    }

    /// <summary>
    /// Loads the subgraphs of every If, Loop and Scan in <paramref name="graph"/> (nested ones first, as the
    /// subgraphs load), adding the outer values each reads as the node's extra inputs. Runs once per node.
    /// </summary>
    /// <exception cref="ModelException">A subgraph is missing, does not fit its node, or cannot be loaded; the message names the node.</exception>
    public static void Prepare(GraphProto graph, long opset, Func<GraphProto, OnnxModel> load)
    {
        foreach (var node in graph.Node.Where(n => n.OpType is "If" or "Loop" or "Scan" && n.Domain is "" or "ai.onnx"))
        {
            if (Compiled.TryGetValue(node, out _))
            {
                continue;
            }

            var name = OperatorCatalog.NodeName(node);
            var subgraphs = node.Attribute.Where(a => SubgraphAttributes.Contains(a.Name)).ToList();
            string[] expected = node.OpType == "If" ? ["then_branch", "else_branch"] : ["body"];
            foreach (var attribute in expected.Where(e => subgraphs.All(a => a.Name != e || a.G is null)))
            {
                throw new ModelException($"{node.OpType} (node '{name}'): {attribute} is missing.");
            }

            var graphs = expected.Select(e => subgraphs.First(a => a.Name == e).G).ToArray();
            CheckArity(node, name, graphs);

            // Nested subgraphs first: what they capture from outside is read by this one too.
            foreach (var sub in graphs)
            {
                Prepare(sub, opset, load);
            }

            var reads = graphs.Select(OuterReads).ToArray();
            var captured = reads.SelectMany(r => r).Distinct(StringComparer.Ordinal).ToArray();
            try
            {
                var parameters = graphs.Select(g => g.Input.Select(i => i.Name).ToArray()).ToArray();
                var models = graphs.Select((g, i) => AsModel(g, reads[i], load)).ToArray();
                var formal = node.Input.Count;
                node.Input.Add(captured);
                Compiled.Add(node, new Subgraphs(models, parameters, formal, captured, [.. graphs[0].Output.Select(Declared)]));
            }
            catch (ModelException ex)
            {
                throw new ModelException($"{node.OpType} (node '{name}'): {(node.OpType == "If" ? "a branch" : "the body")} cannot run: {ex.Message}");
            }
        }
    }

    private static (int Type, int[]? Shape) Declared(ValueInfoProto output)
    {
        var tensor = output.Type?.TensorType;
        var dims = tensor?.Shape?.Dim;
        var known = dims is not null && dims.All(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue is >= 0 and <= int.MaxValue);
        return (tensor?.ElemType ?? 1, known ? [.. dims!.Select(d => (int)d.DimValue)] : null);
    }

    /// <summary>Whether each subgraph's inputs and outputs fit its node, as ONNX defines them.</summary>
    private static void CheckArity(NodeProto node, string name, GraphProto[] graphs)
    {
        var outputs = node.Output.Count;
        switch (node.OpType)
        {
            case "If" when graphs.Any(g => g.Input.Any(i => g.Initializer.All(t => t.Name != i.Name))):
                throw new ModelException($"If (node '{name}'): a branch declares inputs of its own; If's branches take none.");
            case "If" when graphs.Any(g => g.Output.Count != outputs):
                throw new ModelException($"If (node '{name}'): the node has {outputs} output(s); its branches give {graphs[0].Output.Count} and {graphs[1].Output.Count}.");
            case "Loop":
                {
                    var carried = node.Input.Count - 2;
                    var body = graphs[0];
                    if (carried < 0 || body.Input.Count != carried + 2 || body.Output.Count < carried + 1 || outputs > body.Output.Count - 1 || outputs < carried)
                    {
                        throw new ModelException($"Loop (node '{name}'): {Math.Max(carried, 0)} carried value(s) need a body of {carried + 2} inputs and {carried + 1} or more outputs; it has {body.Input.Count} and {body.Output.Count}.");
                    }

                    break;
                }

            case "Scan":
                {
                    var scanInputs = (int)(node.Attribute.FirstOrDefault(a => a.Name == "num_scan_inputs")?.I ?? 0);
                    var states = node.Input.Count - scanInputs;
                    var body = graphs[0];
                    if (scanInputs < 1 || states < 0 || body.Input.Count != node.Input.Count || body.Output.Count != outputs || outputs < states)
                    {
                        throw new ModelException($"Scan (node '{name}'): {node.Input.Count} input(s) with num_scan_inputs {scanInputs} need a body of as many inputs and the node's {outputs} outputs; it has {body.Input.Count} and {body.Output.Count}.");
                    }

                    break;
                }
        }
    }

    private static Subgraphs Loaded(OpContext c) =>
        Compiled.TryGetValue(c.Node, out var loaded) ? loaded : throw new ModelException($"the {c.Node.OpType} node's subgraphs were not loaded with the model.");

    /// <summary>Runs <paramref name="graph"/> on its formal inputs and the outer values the node captured.</summary>
    private static Tensor[] RunGraph(OpContext c, Subgraphs loaded, int which, IReadOnlyList<Tensor> formal)
    {
        var graph = loaded.Graphs[which];
        var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (var i = 0; i < loaded.Captured.Length; i++)
        {
            feeds[loaded.Captured[i]] = c.Input(loaded.Formal + i);
        }

        var names = loaded.Parameters[which];
        for (var i = 0; i < formal.Count; i++)
        {
            feeds[names[i]] = formal[i];
        }

        var results = graph.Run(graph.Inputs.ToDictionary(n => n, n => feeds[n], StringComparer.Ordinal), null, out var flops, out _, OnnxModel.CurrentProfile);
        c.SubgraphFlops += flops;
        return [.. graph.Outputs.Select(o => results.TryGetValue(o, out var r) ? r : feeds[o])];
    }

    private static Tensor[] RunIf(OpContext c)
    {
        var loaded = Loaded(c);
        var condition = c.Input(0);
        if (condition.Type != ElementType.Bool || condition.Length != 1)
        {
            throw new ModelException($"the condition must be one bool; it is {condition.Type} of {condition.Length} element(s).");
        }

        return RunGraph(c, loaded, condition.Bools[0] ? 0 : 1, []);
    }

    private static Tensor[] RunLoop(OpContext c)
    {
        var loaded = Loaded(c);
        var tripCount = c.Optional(0) is { } m ? m.Length == 1 ? m.AsLongs()[0] : throw new ModelException("the trip count must be one integer.") : (long?)null;
        var condition = c.Optional(1) is { } cond ? cond.Length == 1 ? cond.Bools[0] : throw new ModelException("the condition must be one bool.") : true;
        var carried = Enumerable.Range(2, loaded.Formal - 2).Select(c.Input).ToArray();
        var scans = new List<Tensor>[c.OutputCount - carried.Length];
        for (var k = 0; k < scans.Length; k++)
        {
            scans[k] = [];
        }

        long stacked = 0;
        for (long i = 0; condition && (tripCount is null || i < tripCount); i++)
        {
            if (i >= MaxIterations)
            {
                throw new ModelException($"the loop ran {MaxIterations:N0} iterations without ending.");
            }

            var results = RunGraph(c, loaded, 0, [Tensor.OfLongs([], [i]), Tensor.OfBools([], [condition]), .. carried]);
            var next = results[0];
            condition = next.Type == ElementType.Bool && next.Length == 1 ? next.Bools[0] : throw new ModelException("the body's condition must be one bool.");
            carried = results[1..(carried.Length + 1)];
            for (var k = 0; k < scans.Length; k++)
            {
                scans[k].Add(results[carried.Length + 1 + k]);
                stacked = Stacked(stacked, results[carried.Length + 1 + k]);
            }
        }

        return [.. carried, .. scans.Select((s, k) => Stack(s, 0, reverse: false, loaded.Declared[carried.Length + 1 + k]))];
    }

    private static Tensor[] RunScan(OpContext c)
    {
        var loaded = Loaded(c);
        var scanInputs = (int)c.GetInt("num_scan_inputs", 1);
        var states = loaded.Formal - scanInputs;
        var scanOutputs = c.OutputCount - states;
        var inputAxes = c.GetInts("scan_input_axes") ?? new long[scanInputs];
        var inputDirections = c.GetInts("scan_input_directions") ?? new long[scanInputs];
        var outputAxes = c.GetInts("scan_output_axes") ?? new long[scanOutputs];
        var outputDirections = c.GetInts("scan_output_directions") ?? new long[scanOutputs];
        if (inputAxes.Length != scanInputs || inputDirections.Length != scanInputs || outputAxes.Length != scanOutputs || outputDirections.Length != scanOutputs)
        {
            throw new ModelException($"the scan axes and directions must name each of the {scanInputs} scan input(s) and {scanOutputs} scan output(s).");
        }

        var state = Enumerable.Range(0, states).Select(c.Input).ToArray();
        var sequences = Enumerable.Range(states, scanInputs).Select(c.Input).ToArray();
        foreach (var x in sequences)
        {
            Indexing.NotScalar([.. x.Shape.Select(d => (long)d)], "Scan's input");
        }

        var axes = sequences.Select((x, j) => OpContext.Axis(inputAxes[j], x.Rank)).ToArray();
        var length = sequences.Length == 0 ? 0 : sequences[0].Shape[axes[0]];
        if (sequences.Where((x, j) => x.Shape[axes[j]] != length).Any())
        {
            throw new ModelException($"the scan inputs are of different lengths along their scan axes ({string.Join(", ", sequences.Select((x, j) => x.Shape[axes[j]]))}).");
        }

        var outputs = new List<Tensor>[scanOutputs];
        for (var k = 0; k < scanOutputs; k++)
        {
            outputs[k] = [];
        }

        long stacked = 0;

        for (var t = 0; t < length; t++)
        {
            var slices = sequences.Select((x, j) => SliceAt(x, axes[j], inputDirections[j] == 1 ? length - 1 - t : t));
            var results = RunGraph(c, loaded, 0, [.. state, .. slices]);
            state = results[..states];
            for (var k = 0; k < scanOutputs; k++)
            {
                outputs[k].Add(results[states + k]);
                stacked = Stacked(stacked, results[states + k]);
            }
        }

        return [.. state, .. outputs.Select((o, k) => Stack(o, outputAxes[k], outputDirections[k] == 1, loaded.Declared[states + k]))];
    }

    /// <summary>
    /// The elements the iterations' scan outputs hold so far, with <paramref name="item"/>: refused past
    /// <see cref="Tensor.MaxElements"/>, so a body cannot pile up more than one tensor could hold.
    /// </summary>
    private static long Stacked(long sofar, Tensor item)
    {
        var total = sofar + item.Length;
        return total > Tensor.MaxElements ? throw new ModelException($"the scan outputs would exceed {Tensor.MaxElements:N0} elements.") : total;
    }

    /// <summary>The values of <paramref name="x"/> at <paramref name="index"/> along <paramref name="axis"/>, that axis removed.</summary>
    private static Tensor SliceAt(Tensor x, int axis, int index) =>
        Shapes.Slab(x, axis, index, 1).Reshaped([.. x.Shape[..axis], .. x.Shape[(axis + 1)..]]);

    /// <summary>
    /// Values of one shape stacked along a new <paramref name="axis"/> (in reverse order when asked); none
    /// stacked is an empty tensor of the body's declared type and shape (or [0] when it declares none).
    /// </summary>
    private static Tensor Stack(List<Tensor> items, long axis, bool reverse, (int Type, int[]? Shape) declared)
    {
        if (items.Count == 0)
        {
            var item = declared.Shape ?? [];
            var position = (int)Math.Clamp(axis < 0 ? axis + item.Length + 1 : axis, 0, item.Length);
            int[] shape = declared.Shape is null ? [0] : [.. item[..position], 0, .. item[position..]];
            return declared.Type switch
            {
                7 or 6 => Tensor.OfLongs(shape, []),
                9 => Tensor.OfBools(shape, []),
                _ => new Tensor(shape, []),
            };
        }

        var first = items[0];
        if (first.Type is ElementType.Sequence or ElementType.String)
        {
            throw new ModelException($"a scan output must be a tensor of numbers or bools; the body gives a {first.Type}.");
        }

        if (items.Any(i => i.Type != first.Type || !i.Shape.AsSpan().SequenceEqual(first.Shape)))
        {
            throw new ModelException($"the iterations' scan outputs differ in shape or type ({first} and {items.First(i => i.Type != first.Type || !i.Shape.AsSpan().SequenceEqual(first.Shape))}).");
        }

        var ordered = reverse ? Enumerable.Reverse(items).ToList() : items;
        var stacked = Tensor.Join(first.Type, [ordered.Count, .. first.Shape], [.. ordered.Select(i => (i, 0, i.Length))]);
        var at = OpContext.Axis(axis, first.Rank + 1);
        if (at == 0)
        {
            return stacked;
        }

        int[] perm = [.. Enumerable.Range(1, at), 0, .. Enumerable.Range(at + 1, first.Rank - at)];
        return Shapes.Transpose(null, stacked, perm);
    }

    /// <summary>The subgraph as a model: the outer values it reads become inputs after its own.</summary>
    private static OnnxModel AsModel(GraphProto graph, IReadOnlyList<string> reads, Func<GraphProto, OnnxModel> load)
    {
        foreach (var read in reads.Where(r => graph.Input.All(i => i.Name != r)))
        {
            graph.Input.Add(new ValueInfoProto { Name = read });
        }

        return load(graph);
    }

    /// <summary>Names a graph reads that nothing in it defines (outer values), in order of first use.</summary>
    private static List<string> OuterReads(GraphProto graph)
    {
        var defined = new HashSet<string>(graph.Initializer.Select(i => i.Name).Concat(graph.Input.Select(i => i.Name)).Concat(graph.Node.SelectMany(n => n.Output)), StringComparer.Ordinal);
        return [.. graph.Node.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name))
            .Where(n => n.Length > 0 && !defined.Contains(n)).Distinct(StringComparer.Ordinal)];
    }
}
