using System.Reflection;
using Onnx;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>Marks a class whose static <c>Declare()</c> returns operator declarations: adding an operator is adding such a file.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class OperatorFamilyAttribute : Attribute;

/// <summary>
/// Every operator the engine runs, gathered from the <see cref="OperatorFamilyAttribute"/> classes, and
/// the load-time check of a node against its operator's declaration.
/// </summary>
internal static class OperatorCatalog
{
    private static readonly Dictionary<string, OperatorSchema> Schemas = Discover();

    public static IReadOnlyCollection<OperatorSchema> All => Schemas.Values;

    /// <summary>The declaration of a default-domain operator, or null when the engine does not run it.</summary>
    public static OperatorSchema? Find(string opType) => Schemas.GetValueOrDefault(opType);

    /// <summary>The declaration of an operator the model was already checked to use.</summary>
    public static OperatorSchema Get(string opType) => Find(opType) ?? throw new ModelException($"the engine has no operator {opType}.");

    /// <summary>
    /// Checks a node as the model file gives it against its declaration: the opset, every attribute
    /// (declared, of its type, within its allowed values, not one of the engine's own) and how many
    /// inputs and outputs it names. Shapes are checked by the shape rule, at load and before each run.
    /// </summary>
    /// <exception cref="ModelException">What does not fit, naming the node and the attribute.</exception>
    public static void Check(NodeProto node, long opset)
    {
        var schema = Get(node.OpType);
        string? Refusal()
        {
            if (opset < schema.SinceOpset)
            {
                return $"this agent implements {schema.Name} from opset {schema.SinceOpset}; the model imports opset {opset}.";
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var attribute in node.Attribute)
            {
                if (!seen.Add(attribute.Name))
                {
                    return $"attribute '{attribute.Name}' is given twice.";
                }

                var declared = schema.Attributes.FirstOrDefault(a => a.Name == attribute.Name);
                var refusal = declared switch
                {
                    null => $"{schema.Name} has no attribute '{attribute.Name}'.",
                    { Internal: true } => $"attribute '{attribute.Name}' belongs to the engine's own fusion; a model may not set it.",
                    _ => declared.Refusal(attribute),
                };
                if (refusal is not null)
                {
                    return refusal;
                }
            }

            // Trailing empty names are optional inputs and outputs left out, as ONNX allows.
            var (inputs, outputs) = (Named(node.Input), Named(node.Output));
            return !schema.Inputs.Allows(inputs) ? $"{schema.Name} takes {schema.Inputs} inputs; the node names {inputs}."
                : !schema.Outputs.Allows(outputs) ? $"{schema.Name} gives {schema.Outputs} outputs; the node names {outputs}."
                : null;
        }

        if (Refusal() is { } why)
        {
            throw new ModelException($"{node.OpType} (node '{NodeName(node)}'): {why}");
        }
    }

    /// <summary>How many names a list holds up to its last non-empty one.</summary>
    private static int Named(Google.Protobuf.Collections.RepeatedField<string> names)
    {
        var count = names.Count;
        while (count > 0 && names[count - 1].Length == 0)
        {
            count--;
        }

        return count;
    }

    public static string NodeName(NodeProto node) => node.Name.Length > 0 ? node.Name : node.Output.FirstOrDefault() ?? "?";

    private static Dictionary<string, OperatorSchema> Discover()
    {
        var schemas = new Dictionary<string, OperatorSchema>(StringComparer.Ordinal);
        foreach (var family in typeof(OperatorCatalog).Assembly.GetTypes().Where(t => t.IsDefined(typeof(OperatorFamilyAttribute))))
        {
            var declare = family.GetMethod("Declare", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                ?? throw new InvalidOperationException($"{family.Name} is marked as an operator family but has no static Declare().");
            foreach (var schema in (IEnumerable<OperatorSchema>)declare.Invoke(null, null)!)
            {
                if (!schemas.TryAdd(schema.Name, schema))
                {
                    throw new InvalidOperationException($"{schema.Name} is declared twice ({family.Name}).");
                }
            }
        }

        return schemas;
    }
}
