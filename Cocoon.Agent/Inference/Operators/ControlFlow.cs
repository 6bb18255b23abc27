using System.Runtime.CompilerServices;
using Onnx;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// <c>If</c>: each branch is a graph of its own, loaded (and checked) with the model as a model of its own
/// whose inputs are the outer values it reads; the node names those values as extra inputs, so the plan
/// keeps them alive until the branch has run and hands them to it. Branches run on the CPU kernels (a GPU
/// run's values come back to the host for them), nested <c>If</c>s included.
/// </summary>
[OperatorFamily]
internal static class ControlFlow
{
    /// <summary>The loaded branches of each prepared If node, and how many outer values it captured.</summary>
    private static readonly ConditionalWeakTable<NodeProto, Branches> Compiled = [];

    private sealed record Branches(OnnxModel Then, OnnxModel Else, string[] Captured);

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
            Run = Run,
        };
    }

    /// <summary>
    /// Loads the branches of every If in <paramref name="graph"/> (nested ones first, as the branches load),
    /// adding the outer values each reads as the node's extra inputs. Runs once per node.
    /// </summary>
    /// <exception cref="ModelException">A branch is missing or cannot be loaded; the message names the node.</exception>
    public static void Prepare(GraphProto graph, long opset, Func<GraphProto, OnnxModel> load)
    {
        foreach (var node in graph.Node.Where(n => n.OpType == "If" && n.Domain is "" or "ai.onnx"))
        {
            if (Compiled.TryGetValue(node, out _))
            {
                continue;
            }

            var name = OperatorCatalog.NodeName(node);
            GraphProto Branch(string attribute) => node.Attribute.FirstOrDefault(a => a.Name == attribute)?.G
                ?? throw new ModelException($"If (node '{name}'): {attribute} is missing.");
            var (then, otherwise) = (Branch("then_branch"), Branch("else_branch"));
            if (then.Output.Count != node.Output.Count || otherwise.Output.Count != node.Output.Count)
            {
                throw new ModelException($"If (node '{name}'): the node has {node.Output.Count} output(s); its branches give {then.Output.Count} and {otherwise.Output.Count}.");
            }

            // Nested Ifs first: what they capture from outside their branch is read by this branch too.
            Prepare(then, opset, load);
            Prepare(otherwise, opset, load);
            var (thenReads, elseReads) = (OuterReads(then), OuterReads(otherwise));
            var captured = thenReads.Concat(elseReads).Distinct(StringComparer.Ordinal).ToArray();
            try
            {
                var branches = new Branches(AsModel(then, thenReads, load), AsModel(otherwise, elseReads, load), captured);
                node.Input.Add(captured);
                Compiled.Add(node, branches);
            }
            catch (ModelException ex)
            {
                throw new ModelException($"If (node '{name}'): a branch cannot run: {ex.Message}");
            }
        }
    }

    private static Tensor[] Run(OpContext c)
    {
        if (!Compiled.TryGetValue(c.Node, out var branches))
        {
            throw new ModelException("the If node's branches were not loaded with the model.");
        }

        var condition = c.Input(0);
        if (condition.Type != ElementType.Bool || condition.Length != 1)
        {
            throw new ModelException($"the condition must be one bool; it is {condition.Type} of {condition.Length} element(s).");
        }

        var branch = condition.Bools[0] ? branches.Then : branches.Else;
        var outer = branches.Captured.Select((name, i) => (name, value: c.Input(i + 1))).ToDictionary(p => p.name, p => p.value, StringComparer.Ordinal);
        var results = branch.Run(branch.Inputs.ToDictionary(n => n, n => outer[n], StringComparer.Ordinal));
        return [.. branch.Outputs.Select(o => results[o])];
    }

    /// <summary>The branch as a model: the outer values it reads become its inputs.</summary>
    private static OnnxModel AsModel(GraphProto branch, IReadOnlyList<string> reads, Func<GraphProto, OnnxModel> load)
    {
        foreach (var read in reads.Where(r => branch.Input.All(i => i.Name != r)))
        {
            branch.Input.Add(new ValueInfoProto { Name = read });
        }

        return load(branch);
    }

    /// <summary>Names a graph reads that nothing in it defines (outer values), in order of first use.</summary>
    private static List<string> OuterReads(GraphProto graph)
    {
        var defined = new HashSet<string>(graph.Initializer.Select(i => i.Name).Concat(graph.Node.SelectMany(n => n.Output)), StringComparer.Ordinal);
        return [.. graph.Node.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name))
            .Where(n => n.Length > 0 && !defined.Contains(n)).Distinct(StringComparer.Ordinal)];
    }
}
