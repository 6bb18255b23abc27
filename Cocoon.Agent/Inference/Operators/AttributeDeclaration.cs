using Onnx;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// One attribute of an operator: its name, its ONNX type, and the values it may take (strings from a
/// set, integers in a range). Defaults live with the kernels that read them (<c>c.GetInt(name, default)</c>).
/// An internal attribute is one the engine's own fusion writes; a model file that sets it is refused.
/// </summary>
internal sealed record AttributeDeclaration(string Name, AttributeProto.Types.AttributeType Type)
{
    /// <summary>The strings a STRING attribute may hold; null: any.</summary>
    public IReadOnlyList<string>? Allowed { get; init; }

    /// <summary>The least value an INT attribute, or each of an INTS attribute's values, may take.</summary>
    public long Min { get; init; } = long.MinValue;

    /// <summary>The most such a value may take.</summary>
    public long Max { get; init; } = long.MaxValue;

    /// <summary>What to tell the developer when a value is out of range (why the engine does not take it); null: the range alone.</summary>
    public string? Note { get; init; }

    /// <summary>The most values an INTS attribute may list (64 for shapes, perms and pads; data such as Constant's value_ints is not bounded here).</summary>
    public int MaxCount { get; init; } = 64;

    /// <summary>Written by the engine's fusion, never read from a model file.</summary>
    public bool Internal { get; init; }

    public static AttributeDeclaration Int(string name, long min = long.MinValue, long max = long.MaxValue) =>
        new(name, AttributeProto.Types.AttributeType.Int) { Min = min, Max = max };

    public static AttributeDeclaration Ints(string name, long min = long.MinValue, long max = long.MaxValue) =>
        new(name, AttributeProto.Types.AttributeType.Ints) { Min = min, Max = max };

    public static AttributeDeclaration Float(string name) => new(name, AttributeProto.Types.AttributeType.Float);

    public static AttributeDeclaration Floats(string name) => new(name, AttributeProto.Types.AttributeType.Floats);

    public static AttributeDeclaration String(string name, params string[] allowed) =>
        new(name, AttributeProto.Types.AttributeType.String) { Allowed = allowed.Length == 0 ? null : allowed };

    public static AttributeDeclaration Strings(string name) => new(name, AttributeProto.Types.AttributeType.Strings);

    public static AttributeDeclaration Tensor(string name) => new(name, AttributeProto.Types.AttributeType.Tensor);

    /// <summary>Why <paramref name="attribute"/> does not fit this declaration, or null when it does.</summary>
    public string? Refusal(AttributeProto attribute)
    {
        // Exporters of old IR versions leave the type unset; the value is then read as the declared type.
        if (attribute.Type != AttributeProto.Types.AttributeType.Undefined && attribute.Type != Type)
        {
            return $"attribute '{Name}' is {attribute.Type}; the operator takes {Type}.";
        }

        if (Type == AttributeProto.Types.AttributeType.Int && (attribute.I < Min || attribute.I > Max))
        {
            return $"attribute '{Name}' is {attribute.I}; it must be {Range()}{(Note is null ? "" : $": {Note}")}.";
        }

        if (Type == AttributeProto.Types.AttributeType.Ints)
        {
            if (attribute.Ints.Count > MaxCount)
            {
                return $"attribute '{Name}' holds {attribute.Ints.Count} values; at most {MaxCount} are read.";
            }

            foreach (var value in attribute.Ints)
            {
                if (value < Min || value > Max)
                {
                    return $"attribute '{Name}' holds {value}; each value must be {Range()}.";
                }
            }
        }

        return Type == AttributeProto.Types.AttributeType.String && Allowed is not null && !Allowed.Contains(attribute.S.ToStringUtf8())
            ? $"attribute '{Name}' is '{attribute.S.ToStringUtf8()}'; it must be one of {string.Join(", ", Allowed)}."
            : null;
    }

    private string Range() => (Min, Max) switch
    {
        (long.MinValue, _) => $"at most {Max}",
        (_, long.MaxValue) => $"at least {Min}",
        _ => $"from {Min} to {Max}",
    };
}
