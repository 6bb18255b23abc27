namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// ONNX's sequences of tensors: SequenceEmpty, SequenceConstruct, SequenceInsert, SequenceAt,
/// SequenceErase, SequenceLength, ConcatFromSequence and SplitToSequence. A sequence is a value of its
/// own kind (<see cref="ElementType.Sequence"/>, shaped [count]) that only these operators take; its
/// shape is left unknown to shape inference (a count is not a tensor's shape), so a sequence that reaches
/// a tensor operator is refused by its element type. Every operator makes a new sequence, so a value
/// once made never changes. CPU only (a GPU run reads the tensors
/// back): sequences carry lists of small tensors, not a model's bulk.
/// </summary>
[OperatorFamily]
internal static class Sequences
{
    /// <summary>Most tensors a sequence may hold: each is an object of its own, so a count bounds memory that element counts do not.</summary>
    public const int MaxItems = 1 << 16;

    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return new OperatorSchema
        {
            Name = "SequenceEmpty",
            SinceOpset = 11,
            Attributes = [AttributeDeclaration.Int("dtype")],
            Inputs = new(0, 0),
            Shape = _ => [null],
            Run = _ => [Tensor.Sequence([])],
        };
        yield return new OperatorSchema
        {
            Name = "SequenceConstruct",
            SinceOpset = 11,
            Inputs = Arity.Any,
            InputTypes = [ElementTypes.Any],
            SharedType = int.MaxValue,
            Shape = _ => [null],
            Run = c => c.InputCount > MaxItems
                ? throw new ModelException($"a sequence may hold {MaxItems:N0} tensors.")
                : [Tensor.Sequence([.. Enumerable.Range(0, c.InputCount).Select(c.Input)])],
        };
        yield return new OperatorSchema
        {
            Name = "SequenceInsert",
            SinceOpset = 11,
            Inputs = new(2, 3),
            InputTypes = [ElementTypes.Sequence, ElementTypes.Any, ElementTypes.Integer],
            Shape = _ => [null],
            Run = c =>
            {
                var items = Items(c.Input(0), c.Input(1));
                var at = c.Optional(2) is { } p ? Position(p, items.Count, inclusiveEnd: true) : items.Count;
                return items.Count >= MaxItems
                    ? throw new ModelException($"a sequence may hold {MaxItems:N0} tensors.")
                    : [Tensor.Sequence([.. items.Take(at), c.Input(1), .. items.Skip(at)])];
            },
        };
        yield return new OperatorSchema
        {
            Name = "SequenceAt",
            SinceOpset = 11,
            Inputs = new(2, 2),
            InputTypes = [ElementTypes.Sequence, ElementTypes.Integer],
            Shape = _ => [null],
            Run = c =>
            {
                var items = c.Input(0).Items;
                return [items[Position(c.Input(1), items.Count, inclusiveEnd: false)]];
            },
        };
        yield return new OperatorSchema
        {
            Name = "SequenceErase",
            SinceOpset = 11,
            Inputs = new(1, 2),
            InputTypes = [ElementTypes.Sequence, ElementTypes.Integer],
            Shape = _ => [null],
            Run = c =>
            {
                var items = c.Input(0).Items;
                var at = c.Optional(1) is { } p ? Position(p, items.Count, inclusiveEnd: false) : items.Count - 1;
                if (at < 0)
                {
                    throw new ModelException("an empty sequence has nothing to erase.");
                }

                return [Tensor.Sequence([.. items.Where((_, i) => i != at)])];
            },
        };
        yield return new OperatorSchema
        {
            Name = "SequenceLength",
            SinceOpset = 11,
            InputTypes = [ElementTypes.Sequence],
            Shape = _ => [[]],
            Run = c => [Tensor.OfLongs([], [c.Input(0).Items.Count])],
        };
        yield return new OperatorSchema
        {
            Name = "ConcatFromSequence",
            SinceOpset = 11,
            Attributes = [AttributeDeclaration.Int("axis"), AttributeDeclaration.Int("new_axis", 0, 1)],
            InputTypes = [ElementTypes.Sequence],
            Shape = _ => [null],
            Run = c => [Concat(c.Input(0).Items, c.Attribute("axis") is null ? throw new ModelException("axis is required.") : c.GetInt("axis", 0), c.GetInt("new_axis", 0) == 1)],
        };
        yield return new OperatorSchema
        {
            Name = "SplitToSequence",
            SinceOpset = 11,
            Attributes = [AttributeDeclaration.Int("axis"), AttributeDeclaration.Int("keepdims", 0, 1)],
            Inputs = new(1, 2),
            InputTypes = [ElementTypes.Any, ElementTypes.Integer],
            Shape = c =>
            {
                if (c.In(0) is { Length: 0 })
                {
                    throw new ModelException("a scalar cannot be split; the input needs a dimension to split along.");
                }

                return [null];
            },
            Run = c => [Split(c.Input(0), c.Optional(1), c.GetInt("axis", 0), c.GetInt("keepdims", 1) == 1)],
        };
    }

    /// <summary>The sequence's tensors, checked to share <paramref name="item"/>'s element type.</summary>
    private static IReadOnlyList<Tensor> Items(Tensor sequence, Tensor item)
    {
        if (sequence.Items.Count > 0 && sequence.Items[0].Type != item.Type)
        {
            throw new ModelException($"a sequence of {sequence.Items[0].Type} cannot take a {item.Type} tensor.");
        }

        return sequence.Items;
    }

    /// <summary>A position in a sequence of <paramref name="count"/> (negative from the end); the end itself too where inserting.</summary>
    private static int Position(Tensor position, int count, bool inclusiveEnd)
    {
        var p = position.AsLongs() is [var one] ? one : throw new ModelException("a sequence position must be one integer.");
        var resolved = p < 0 ? p + count : p;
        return resolved >= 0 && resolved < count + (inclusiveEnd ? 1 : 0)
            ? (int)resolved
            : throw new ModelException($"position {p} is outside a sequence of {count}.");
    }

    /// <summary>The tensors joined along <paramref name="axis"/>, or stacked along a new one there.</summary>
    private static Tensor Concat(IReadOnlyList<Tensor> items, long axis, bool newAxis)
    {
        if (items.Count == 0)
        {
            throw new ModelException("an empty sequence has nothing to concatenate.");
        }

        var first = items[0];
        if (!newAxis)
        {
            Indexing.NotScalar([.. first.Shape.Select(d => (long)d)], "ConcatFromSequence");
        }

        var at = OpContext.Axis(axis, first.Rank + (newAxis ? 1 : 0));
        var parts = newAxis ? [.. items.Select(t => t.Reshaped([.. t.Shape[..at], 1, .. t.Shape[at..]]))] : items.ToList();
        var template = parts[0];
        foreach (var t in parts)
        {
            if (t.Type != template.Type || t.Rank != template.Rank || Enumerable.Range(0, t.Rank).Any(d => d != at && t.Shape[d] != template.Shape[d]))
            {
                throw new ModelException($"cannot concatenate {template} and {t} along axis {at}.");
            }
        }

        var shape = (int[])template.Shape.Clone();
        var joined = parts.Sum(t => (long)t.Shape[at]);
        shape[at] = joined <= int.MaxValue ? (int)joined : throw new ModelException($"joining {joined:N0} along axis {at} would pass any tensor's size.");
        return Tensor.CheckedCount(shape) == 0 ? Tensor.Join(template.Type, shape, []) : Shapes.Joined(parts, at, shape);
    }

    /// <summary>
    /// The input cut along <paramref name="axis"/>: into pieces of one (squeezed unless keepdims) with no
    /// split, into pieces of a scalar split's size (the last may be shorter), or into the listed sizes.
    /// </summary>
    private static Tensor Split(Tensor x, Tensor? split, long axis, bool keepDims)
    {
        if (x.Rank == 0)
        {
            throw new ModelException("a scalar cannot be split; the input needs a dimension to split along.");
        }

        var at = OpContext.Axis(axis, x.Rank);
        var length = x.Shape[at];
        long[] sizes;
        if (split is null)
        {
            if (length > MaxItems)
            {
                throw new ModelException($"splitting into {length:N0} pieces would pass the {MaxItems:N0} a sequence may hold.");
            }

            sizes = [.. Enumerable.Repeat(1L, length)];
        }
        else if (split.Rank == 0)
        {
            var size = split.AsLongs()[0];
            if (size <= 0)
            {
                throw new ModelException($"split {size} must be positive.");
            }

            var count = length == 0 ? 0 : ((length - 1) / size) + 1;
            if (count > MaxItems)
            {
                throw new ModelException($"splitting into {count:N0} pieces would pass the {MaxItems:N0} a sequence may hold.");
            }

            sizes = [.. Enumerable.Range(0, (int)count).Select(i => Math.Min(size, length - (i * size)))];
        }
        else
        {
            sizes = split.AsLongs();
            if (sizes.Any(s => s < 0 || s > length) || sizes.Aggregate(Int128.Zero, (sum, s) => sum + s) != length)
            {
                throw new ModelException($"split sizes [{string.Join(", ", sizes)}] do not add up to dimension {at} ({length}).");
            }
        }

        if (sizes.Length > MaxItems)
        {
            throw new ModelException($"splitting into {sizes.Length:N0} pieces would pass the {MaxItems:N0} a sequence may hold.");
        }

        var pieces = new List<Tensor>(sizes.Length);
        var start = 0;
        foreach (var size in sizes)
        {
            var piece = Shapes.Slab(x, at, start, (int)size);
            pieces.Add(split is null && !keepDims ? piece.Reshaped([.. x.Shape[..at], .. x.Shape[(at + 1)..]]) : piece);
            start += (int)size;
        }

        return Tensor.Sequence(pieces);
    }
}
