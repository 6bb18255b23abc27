using System.Numerics.Tensors;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// Einsum: an equation of subscripts (ellipses, repeated subscripts for diagonals and the implicit output
/// included) run as a chain of batched matrix products. Each operand first takes its diagonals and sums
/// the subscripts no one else needs; then operands are contracted in pairs, left to right, by transposing
/// each to [batch, free, contracted], multiplying with the engine's MatMul, and transposing the result
/// to the output's order.
/// </summary>
[OperatorFamily]
internal static class Einsum
{
    /// <summary>Subscript codes for the dimensions an ellipsis covers start here (letters are their characters).</summary>
    private const int EllipsisCode = 1000;

    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return new OperatorSchema
        {
            Name = "Einsum",
            SinceOpset = 12,
            Attributes = [AttributeDeclaration.String("equation")],
            Inputs = new(1, int.MaxValue),
            InputTypes = [ElementTypes.Float],
            Shape = c => [Rule(c)],
            Flops = (c, results) => Flops(c),
            Run = c => [Run(c)],
        };
    }

    /// <summary>An equation read against its operands' ranks: each operand's subscript codes, and the output's.</summary>
    private sealed record Equation(int[][] Operands, int[] Output);

    private static string EquationOf(OpContext c) =>
        c.Attribute("equation") is null ? throw new ModelException("equation is required.") : c.GetString("equation", "");

    private static Equation Parse(string text, IReadOnlyList<int> ranks)
    {
        var compact = text.Replace(" ", "", StringComparison.Ordinal);
        var arrow = compact.IndexOf("->", StringComparison.Ordinal);
        var left = arrow < 0 ? compact : compact[..arrow];
        var terms = left.Split(',');
        if (terms.Length != ranks.Count)
        {
            throw new ModelException($"equation '{text}' names {terms.Length} operand(s); the node has {ranks.Count}.");
        }

        var ellipsisRank = 0;
        var operands = new int[terms.Length][];
        for (var i = 0; i < terms.Length; i++)
        {
            var letters = Letters(terms[i], text, out var hasEllipsis);
            var covered = ranks[i] - letters.Count(code => code >= 0);
            if (covered < 0 || (!hasEllipsis && covered != 0))
            {
                throw new ModelException($"operand {i} has rank {ranks[i]}; its subscripts '{terms[i]}' do not name as many dimensions.");
            }

            // Ellipsis dimensions line up from the right across operands: codes from EllipsisCode, the widest's first.
            ellipsisRank = Math.Max(ellipsisRank, covered);
            operands[i] = [.. letters.SelectMany(code => code >= 0 ? [code] : Enumerable.Range(-covered, covered))];
        }

        for (var i = 0; i < operands.Length; i++)
        {
            operands[i] = [.. operands[i].Select(code => code < 0 ? EllipsisCode + ellipsisRank + code : code)];
        }

        int[] ellipsis = [.. Enumerable.Range(EllipsisCode, ellipsisRank)];
        int[] output = arrow < 0

            // Implicit output: the ellipsis, then the letters that appear once, in alphabetical order.
            ? [.. ellipsis, .. operands.SelectMany(o => o).Where(code => code < EllipsisCode).GroupBy(code => code).Where(g => g.Count() == 1).Select(g => g.Key).Order()]

            // An explicit output that leaves the ellipsis out sums its dimensions away.
            : [.. Letters(compact[(arrow + 2)..], text, out _).SelectMany(code => code >= 0 ? [code] : ellipsis)];

        var known = operands.SelectMany(o => o).ToHashSet();
        foreach (var code in output)
        {
            if (!known.Contains(code))
            {
                throw new ModelException($"equation '{text}': the output subscript '{(char)code}' names no operand's dimension.");
            }
        }

        if (output.Distinct().Count() != output.Length)
        {
            throw new ModelException($"equation '{text}': the output repeats a subscript.");
        }

        return new Equation(operands, output);
    }

    /// <summary>The letters of one term as codes (an ellipsis as -1, at most once).</summary>
    private static List<int> Letters(string term, string equation, out bool hasEllipsis)
    {
        hasEllipsis = false;
        var codes = new List<int>();
        for (var i = 0; i < term.Length; i++)
        {
            if (term[i] == '.' && i + 2 < term.Length && term[i + 1] == '.' && term[i + 2] == '.' && !hasEllipsis)
            {
                hasEllipsis = true;
                codes.Add(-1);
                i += 2;
            }
            else if (char.IsAsciiLetter(term[i]))
            {
                codes.Add(term[i]);
            }
            else
            {
                throw new ModelException($"equation '{equation}' is not an Einstein summation ('{term[i]}' at '{term}').");
            }
        }

        return codes;
    }

    /// <summary>Each subscript's size across the operands (1 broadcasts; a mismatch is refused); unknown sizes stay unknown.</summary>
    private static Dictionary<int, long> Sizes(Equation equation, List<long[]> shapes, string text)
    {
        var sizes = new Dictionary<int, long>();
        for (var i = 0; i < equation.Operands.Length; i++)
        {
            for (var d = 0; d < equation.Operands[i].Length; d++)
            {
                var (code, size) = (equation.Operands[i][d], shapes[i][d]);
                if (!sizes.TryGetValue(code, out var seen) || seen == 1)
                {
                    sizes[code] = size;
                }
                else if (size >= 0 && seen >= 0 && size != seen && size != 1)
                {
                    var name = code >= EllipsisCode ? "an ellipsis dimension" : $"subscript '{(char)code}'";
                    throw new ModelException($"equation '{text}': {name} is {seen} in one place and {size} in another.");
                }
            }
        }

        return sizes;
    }

    private static long[]? Rule(ShapeContext c)
    {
        var text = EquationOf(c);
        if (c.Shapes.Any(s => s is null))
        {
            return null;
        }

        var shapes = c.Shapes.Select(s => s!).ToList();
        var equation = Parse(text, [.. shapes.Select(s => s.Length)]);
        var sizes = Sizes(equation, shapes, text);
        return [.. equation.Output.Select(code => sizes[code])];
    }

    private static long Flops(OpContext c)
    {
        var operands = Enumerable.Range(0, c.InputCount).Select(c.Input).ToList();
        var equation = Parse(EquationOf(c), [.. operands.Select(o => o.Rank)]);
        var sizes = Sizes(equation, [.. operands.Select(o => o.Shape.Select(d => (long)d).ToArray())], "");
        return 2 * sizes.Values.Aggregate(1L, (p, s) => p * Math.Max(s, 1));
    }

    /// <summary>A value with a subscript code per dimension.</summary>
    private sealed record Term(Tensor Value, int[] Codes);

    private static Tensor Run(OpContext c)
    {
        var text = EquationOf(c);
        var operands = Enumerable.Range(0, c.InputCount).Select(c.Input).ToList();
        var equation = Parse(text, [.. operands.Select(o => o.Rank)]);
        var sizes = Sizes(equation, [.. operands.Select(o => o.Shape.Select(d => (long)d).ToArray())], text);
        var terms = operands.Select((o, i) => Diagonal(new Term(o, equation.Operands[i]))).ToList();

        // Sum each operand's subscripts that neither the output nor another operand names.
        for (var i = 0; i < terms.Count; i++)
        {
            var elsewhere = equation.Output.Concat(terms.Where((_, j) => j != i).SelectMany(t => t.Codes)).ToHashSet();
            terms[i] = SumOut(terms[i], [.. terms[i].Codes.Where(code => !elsewhere.Contains(code))]);
        }

        var result = terms[0];
        for (var i = 1; i < terms.Count; i++)
        {
            var needed = equation.Output.Concat(terms.Skip(i + 1).SelectMany(t => t.Codes)).ToHashSet();
            result = Contract(result, terms[i], needed, sizes);
        }

        // Subscripts the output leaves out (a single operand's own), then the output's order.
        result = SumOut(result, [.. result.Codes.Where(code => !equation.Output.Contains(code))]);
        result = Broadcast(result, sizes);
        return Arrange(result, equation.Output).Value;
    }

    /// <summary>A term whose repeated subscripts are reduced to their diagonal (each subscript once, first place kept).</summary>
    private static Term Diagonal(Term term)
    {
        var unique = term.Codes.Distinct().ToArray();
        if (unique.Length == term.Codes.Length)
        {
            return term;
        }

        var x = term.Value;
        int[] shape = [.. unique.Select(code => x.Shape[Array.IndexOf(term.Codes, code)])];
        foreach (var code in unique)
        {
            if (term.Codes.Select((k, d) => (k, d)).Where(p => p.k == code).Select(p => x.Shape[p.d]).Distinct().Count() > 1)
            {
                throw new ModelException($"a repeated subscript '{(char)code}' covers dimensions of different sizes.");
            }
        }

        var positions = term.Codes.Select(code => Array.IndexOf(unique, code)).ToArray();
        return new Term(x.Gather(shape, Shapes.Map(shape, index => Shapes.Offset(x.Shape, [.. positions.Select(p => index[p])]))), unique);
    }

    /// <summary>The term with <paramref name="codes"/> summed away.</summary>
    private static Term SumOut(Term term, int[] codes)
    {
        if (codes.Length == 0)
        {
            return term;
        }

        int[] kept = [.. term.Codes.Where(code => !codes.Contains(code))];
        var arranged = Arrange(term, [.. kept, .. codes]);
        var x = arranged.Value;
        var groups = (int)Tensor.ElementCount(x.Shape.AsSpan(0, kept.Length));
        var length = groups == 0 ? 0 : x.Length / groups;
        var values = new float[groups];
        var data = x.Values.Span;
        for (var g = 0; g < groups; g++)
        {
            values[g] = TensorPrimitives.Sum(data.Slice(g * length, length));
        }

        return new Term(new Tensor(x.Shape[..kept.Length], values), kept);
    }

    /// <summary>The term transposed so its subscripts come in <paramref name="order"/> (a permutation of its own).</summary>
    private static Term Arrange(Term term, int[] order)
    {
        if (term.Codes.SequenceEqual(order))
        {
            return term;
        }

        int[] perm = [.. order.Select(code => Array.IndexOf(term.Codes, code))];
        return new Term(Shapes.Transpose(null, term.Value, perm), order);
    }

    /// <summary>The term with every dimension of size 1 that is larger elsewhere repeated to its full size.</summary>
    private static Term Broadcast(Term term, Dictionary<int, long> sizes)
    {
        var x = term.Value;
        int[] shape = [.. term.Codes.Select((code, d) => x.Shape[d] == 1 ? (int)sizes[code] : x.Shape[d])];
        if (shape.SequenceEqual(x.Shape))
        {
            return term;
        }

        return new Term(x.Gather(shape, Shapes.Map(shape, index => Shapes.Offset(x.Shape, [.. index.Select((i, d) => x.Shape[d] == 1 ? 0 : i)]))), term.Codes);
    }

    /// <summary>
    /// Two terms as one: subscripts both have and <paramref name="needed"/> later are batch dimensions,
    /// those both have and nothing needs are contracted, the rest are each side's free dimensions.
    /// </summary>
    private static Term Contract(Term a, Term b, HashSet<int> needed, Dictionary<int, long> sizes)
    {
        int[] batch = [.. a.Codes.Where(code => b.Codes.Contains(code) && needed.Contains(code))];
        int[] contracted = [.. a.Codes.Where(code => b.Codes.Contains(code) && !needed.Contains(code))];
        int[] left = [.. a.Codes.Where(code => !b.Codes.Contains(code))];
        int[] right = [.. b.Codes.Where(code => !a.Codes.Contains(code))];

        // Shared subscripts must agree in size: broadcast a side's 1 to the other's size.
        var shared = batch.Concat(contracted).ToHashSet();
        var (x, y) = (BroadcastShared(a, shared, sizes), BroadcastShared(b, shared, sizes));
        x = Arrange(x, [.. batch, .. left, .. contracted]);
        y = Arrange(y, [.. batch, .. contracted, .. right]);
        int Product(Term t, IEnumerable<int> codes) => codes.Aggregate(1, (p, code) => p * t.Value.Shape[Array.IndexOf(t.Codes, code)]);
        var (pb, pl, pc, pr) = (Product(x, batch), Product(x, left), Product(x, contracted), Product(y, right));
        var product = Linear.MatMul(null, x.Value.Reshaped([pb, pl, pc]), y.Value.Reshaped([pb, pc, pr]));
        int[] shape = [.. x.Value.Shape[..(batch.Length + left.Length)], .. y.Value.Shape[(batch.Length + contracted.Length)..]];
        return new Term(product.Reshaped(shape), [.. batch, .. left, .. right]);
    }

    private static Term BroadcastShared(Term term, HashSet<int> shared, Dictionary<int, long> sizes) =>
        Broadcast(term, term.Codes.ToDictionary(code => code, code => shared.Contains(code) ? sizes[code] : term.Value.Shape[Array.IndexOf(term.Codes, code)]));
}
