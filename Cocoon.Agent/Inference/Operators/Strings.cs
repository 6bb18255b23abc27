namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// String tensors' operator: StringNormalizer (ONNX's text preprocessing: stopwords dropped, case
/// changed). Strings are a kind of value only these operators (and Identity) take.
/// </summary>
[OperatorFamily]
internal static class Strings
{
    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return new OperatorSchema
        {
            Name = "StringNormalizer",
            SinceOpset = 10,
            Attributes =
            [
                AttributeDeclaration.String("case_change_action", "NONE", "LOWER", "UPPER"), AttributeDeclaration.Int("is_case_sensitive", 0, 1),
                AttributeDeclaration.String("locale"), AttributeDeclaration.Strings("stopwords"),
            ],
            InputTypes = [ElementTypes.String],
            Shape = c =>
            {
                if (c.In(0) is { } x && (x.Length is < 1 or > 2 || (x.Length == 2 && x[0] >= 0 && x[0] != 1)))
                {
                    throw new ModelException($"the input must be [C] or [1, C]; it is {Dims.Describe(x)}.");
                }

                return [c.In(0) is { } shape ? [.. shape[..^1], Dims.Unknown] : null];
            },
            Run = c => [Normalize(c)],
        };
    }

    /// <summary>
    /// The strings without the stopwords (matched exactly, or ignoring case unless is_case_sensitive), in
    /// upper or lower case when asked; [1] (or [1, 1]) holding "" when nothing is left, as ONNX defines.
    /// </summary>
    private static Tensor Normalize(OpContext c)
    {
        var x = c.Input(0);
        var sensitive = c.GetInt("is_case_sensitive", 0) == 1;
        var stopwords = new HashSet<string>(c.Attribute("stopwords")?.Strings.Select(s => s.ToStringUtf8()) ?? [], sensitive ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase);
        var action = c.GetString("case_change_action", "NONE");
        string[] kept = [.. x.Strings.Where(s => !stopwords.Contains(s)).Select(s => action switch
        {
            "LOWER" => s.ToLowerInvariant(),
            "UPPER" => s.ToUpperInvariant(),
            _ => s,
        })];
        if (kept.Length == 0)
        {
            kept = [""];
        }

        return Tensor.OfStrings(x.Rank == 2 ? [1, kept.Length] : [kept.Length], kept);
    }
}
