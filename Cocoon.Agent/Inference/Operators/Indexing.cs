namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// Operators that pick, place or count elements by index: GatherElements, GatherND, ScatterElements,
/// ScatterND, OneHot, NonZero, TopK, Trilu, CumSum and Range. Their kernels run on the CPU; a GPU run
/// reads their inputs back to the host (they move little data and sit on no hot path).
/// </summary>
[OperatorFamily]
internal static class Indexing
{
    private static readonly AttributeDeclaration ScatterReduction = AttributeDeclaration.String("reduction", "none", "add", "mul", "max", "min");

    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return new OperatorSchema
        {
            Name = "GatherElements",
            SinceOpset = 11,
            Attributes = [AttributeDeclaration.Int("axis")],
            Inputs = new(2, 2),
            InputTypes = [ElementTypes.Any, ElementTypes.Integer],
            Shape = c =>
            {
                var (data, indices) = (c.In(0), c.In(1));
                if (data is not null && indices is not null)
                {
                    SameRank(data, indices, "indices");
                    OpContext.Axis(c.GetInt("axis", 0), data.Length);
                }

                return [indices];
            },
            Run = c => [GatherElements(c)],
        };
        yield return new OperatorSchema
        {
            Name = "GatherND",
            SinceOpset = 11,
            Attributes = [AttributeDeclaration.Int("batch_dims", 0, 64)],
            Inputs = new(2, 2),
            InputTypes = [ElementTypes.Any, ElementTypes.Integer],
            Shape = c => [GatherNdShape(c.In(0), c.In(1), (int)c.GetInt("batch_dims", 0))],
            Run = c => [GatherNd(c)],
        };
        yield return new OperatorSchema
        {
            Name = "ScatterElements",
            SinceOpset = 11,
            Attributes = [AttributeDeclaration.Int("axis"), ScatterReduction],
            Inputs = new(3, 3),
            InputTypes = [ElementTypes.Any, ElementTypes.Integer, ElementTypes.Any],
            Shape = c =>
            {
                var (data, indices, updates) = (c.In(0), c.In(1), c.In(2));
                if (data is not null && indices is not null)
                {
                    SameRank(data, indices, "indices");
                    OpContext.Axis(c.GetInt("axis", 0), data.Length);
                }

                if (indices is not null && updates is not null)
                {
                    SameShape(indices, updates, "updates", "indices");
                }

                return [data];
            },
            Run = c => [ScatterElements(c)],
        };
        yield return new OperatorSchema
        {
            Name = "ScatterND",
            SinceOpset = 11,
            Attributes = [ScatterReduction],
            Inputs = new(3, 3),
            InputTypes = [ElementTypes.Any, ElementTypes.Integer, ElementTypes.Any],
            Shape = c =>
            {
                var (data, indices, updates) = (c.In(0), c.In(1), c.In(2));
                if (data is not null && indices is not null && updates is not null && GatherNdShape(data, indices, 0) is { } expected)
                {
                    SameShape(expected, updates, "updates", "what the indices address");
                }

                return [data];
            },
            Run = c => [ScatterNd(c)],
        };
        yield return new OperatorSchema
        {
            Name = "OneHot",
            SinceOpset = 9,
            Attributes = [AttributeDeclaration.Int("axis")],
            Inputs = new(3, 3),
            InputTypes = [ElementTypes.Numeric, ElementTypes.Numeric, ElementTypes.Any],
            Shape = c =>
            {
                var (indices, depth, values) = (c.In(0), c.Optional(1), c.In(2));
                if (values is not null && Dims.Product(values) is >= 0 and not 2)
                {
                    throw new ModelException($"values must hold two elements (off, on); it is {Dims.Describe(values)}.");
                }

                if (indices is null)
                {
                    return [null];
                }

                var axis = OpContext.Axis(c.GetInt("axis", -1), indices.Length + 1);
                var size = depth is null ? Dims.Unknown : Depth(depth);
                return [[.. indices[..axis], size, .. indices[axis..]]];
            },
            Run = c => [OneHot(c)],
        };
        yield return new OperatorSchema
        {
            Name = "NonZero",
            SinceOpset = 9,
            Shape = c => [c.In(0) is { } x ? [x.Length, Dims.Unknown] : null],
            Run = c => [NonZero(c.Input(0))],
        };
        yield return new OperatorSchema
        {
            Name = "TopK",
            SinceOpset = 10,
            Attributes = [AttributeDeclaration.Int("axis"), AttributeDeclaration.Int("largest", 0, 1), AttributeDeclaration.Int("sorted", 0, 1)],
            Inputs = new(2, 2),
            Outputs = new(2, 2),
            InputTypes = [ElementTypes.Numeric, ElementTypes.Integer],
            Shape = c =>
            {
                var (x, k) = (c.In(0), c.Longs(1));
                if (x is null)
                {
                    return [null, null];
                }

                NotScalar(x, "TopK");
                var axis = OpContext.Axis(c.GetInt("axis", -1), x.Length);
                if (k is not null && k.Length != 1)
                {
                    throw new ModelException($"K must be one integer; it has {k.Length}.");
                }

                if (k is [var count] && (count < 0 || (x[axis] >= 0 && count > x[axis])))
                {
                    throw new ModelException($"K = {count} is outside 0..{x[axis]}, the size of axis {axis}.");
                }

                long[] shape = [.. x.Select((d, i) => i == axis ? k?[0] ?? Dims.Unknown : d)];
                return [shape, shape];
            },
            Flops = (c, results) => c.Input(0).Length,
            Run = TopK,
        };
        yield return new OperatorSchema
        {
            Name = "Trilu",
            SinceOpset = 14,
            Attributes = [AttributeDeclaration.Int("upper", 0, 1)],
            Inputs = new(1, 2),
            InputTypes = [ElementTypes.Any, ElementTypes.Integer],
            Shape = c =>
            {
                if (c.In(0) is { Length: < 2 } x)
                {
                    throw new ModelException($"the input must have rank 2 or more; it is {Dims.Describe(x)}.");
                }

                return [c.In(0)];
            },
            Run = c => [Trilu(c)],
        };
        yield return new OperatorSchema
        {
            Name = "CumSum",
            SinceOpset = 11,
            Attributes = [AttributeDeclaration.Int("exclusive", 0, 1), AttributeDeclaration.Int("reverse", 0, 1)],
            Inputs = new(2, 2),
            InputTypes = [ElementTypes.Numeric, ElementTypes.Integer],
            Shape = c =>
            {
                if (c.In(0) is { } shape)
                {
                    NotScalar(shape, "CumSum");
                }

                if (c.In(0) is { } x && c.Longs(1) is { } axis)
                {
                    if (axis.Length != 1)
                    {
                        throw new ModelException($"axis must be one integer; it has {axis.Length}.");
                    }

                    OpContext.Axis(axis[0], x.Length);
                }

                return [c.In(0)];
            },
            Run = c => [CumSum(c)],
        };
        yield return new OperatorSchema
        {
            Name = "Range",
            SinceOpset = 11,
            Inputs = new(3, 3),
            InputTypes = [ElementTypes.Numeric],
            SharedType = 3,
            Shape = c =>
            {
                foreach (var i in new[] { 0, 1, 2 })
                {
                    if (c.In(i) is { } s && Dims.Product(s) is >= 0 and not 1)
                    {
                        throw new ModelException($"input {i} must be a scalar; it is {Dims.Describe(s)}.");
                    }
                }

                return [[c.Optional(0) is { } start && c.Optional(1) is { } limit && c.Optional(2) is { } delta ? RangeCount(start, limit, delta) : Dims.Unknown]];
            },
            Run = c => [Range(c)],
        };
    }

    /// <summary>Refuses a scalar where the operator works along an axis.</summary>
    internal static void NotScalar(long[] shape, string op)
    {
        if (shape.Length == 0)
        {
            throw new ModelException($"{op} works along an axis; a scalar has none.");
        }
    }

    private static void SameRank(long[] data, long[] other, string what)
    {
        if (data.Length != other.Length)
        {
            throw new ModelException($"{what} {Dims.Describe(other)} must have the rank of the data {Dims.Describe(data)}.");
        }
    }

    private static void SameShape(long[] expected, long[] actual, string what, string of)
    {
        if (expected.Length != actual.Length || expected.Where((d, i) => d >= 0 && actual[i] >= 0 && d != actual[i]).Any())
        {
            throw new ModelException($"{what} {Dims.Describe(actual)} must have the shape of {of} {Dims.Describe(expected)}.");
        }
    }

    private static long[]? GatherNdShape(long[]? data, long[]? indices, int batchDims)
    {
        if (data is null || indices is null)
        {
            return null;
        }

        if (indices.Length < 1 || batchDims < 0 || batchDims >= Math.Min(data.Length, indices.Length))
        {
            throw new ModelException($"batch_dims {batchDims} must be below the ranks of data {Dims.Describe(data)} and indices {Dims.Describe(indices)}.");
        }

        for (var b = 0; b < batchDims; b++)
        {
            Dims.Same(data[b], indices[b], $"batch dimension {b}");
        }

        var depth = indices[^1];
        if (depth < 0)
        {
            return null;
        }

        if (depth < 1 || batchDims + depth > data.Length)
        {
            throw new ModelException($"the indices' last dimension ({depth}) must address 1 to {data.Length - batchDims} dimensions of data {Dims.Describe(data)}.");
        }

        return [.. indices[..^1], .. data[(batchDims + (int)depth)..]];
    }

    private static long Depth(Tensor depth)
    {
        if (depth.Length != 1)
        {
            throw new ModelException($"depth must be one number; it has {depth.Length}.");
        }

        var value = depth.Type == ElementType.Float32 ? (long)depth.Data[0] : depth.AsLongs()[0];
        return value < 1 ? throw new ModelException($"depth {value} must be at least 1.") : value;
    }

    private static long RangeCount(Tensor start, Tensor limit, Tensor delta)
    {
        if (start.Type == ElementType.Int64)
        {
            var (s, l, d) = (start.Longs[0], limit.Longs[0], delta.Longs[0]);
            if (d == 0)
            {
                throw new ModelException("delta must not be zero.");
            }

            var span = (Int128)l - s;
            var count = Int128.Max((span + d - Int128.Sign(d)) / d, 0);
            return count > Tensor.MaxElements ? throw new ModelException($"a range of {count:N0} elements would exceed {Tensor.MaxElements:N0}.") : (long)count;
        }

        var (fs, fl, fd) = ((double)start.Data[0], (double)limit.Data[0], (double)delta.Data[0]);
        if (fd == 0 || !double.IsFinite(fs) || !double.IsFinite(fl) || !double.IsFinite(fd))
        {
            throw new ModelException("start, limit and delta must be finite and delta not zero.");
        }

        return Checked((long)Math.Max(Math.Ceiling((fl - fs) / fd), 0));

        static long Checked(long count) => count > Tensor.MaxElements ? throw new ModelException($"a range of {count:N0} elements would exceed {Tensor.MaxElements:N0}.") : count;
    }

    /// <summary>A position along a dimension of <paramref name="size"/>, negative counting from the end; out of range refused.</summary>
    private static int Position(long index, int size, string what)
    {
        if (index < -size || index >= size)
        {
            throw new ModelException($"{what} {index} is out of range for a dimension of {size}.");
        }

        return (int)(index < 0 ? index + size : index);
    }

    /// <summary>
    /// For each element of <paramref name="indices"/>, the offset into <paramref name="data"/> it names:
    /// its own position with the axis coordinate replaced by its value (GatherElements, ScatterElements).
    /// </summary>
    private static int[] ElementOffsets(Tensor data, Tensor indices, int axis)
    {
        var positions = indices.AsLongs();
        var strides = Shapes.RowMajorStrides(data.Shape);
        var flat = 0;
        return Shapes.Map(indices.Shape, index =>
        {
            var offset = 0;
            for (var d = 0; d < index.Length; d++)
            {
                var at = d == axis ? Position(positions[flat], data.Shape[d], "index") : index[d];
                if (at >= data.Shape[d])
                {
                    throw new ModelException($"indices {Dims.Describe([.. indices.Shape.Select(s => (long)s)])} reach past data {data}.");
                }

                offset += at * strides[d];
            }

            flat++;
            return offset;
        });
    }

    private static Tensor GatherElements(OpContext c)
    {
        var (data, indices) = (c.Input(0), c.Input(1));
        return data.Gather(indices.Shape, ElementOffsets(data, indices, OpContext.Axis(c.GetInt("axis", 0), data.Rank)));
    }

    /// <summary>
    /// The element offsets into <paramref name="data"/> of each slice GatherND/ScatterND address, and the
    /// length of a slice: for each tuple of the indices' last dimension, its start.
    /// </summary>
    private static (int[] Starts, int SliceLength) NdSlices(Tensor data, Tensor indices, int batchDims)
    {
        var depth = indices.Shape[^1];
        var positions = indices.AsLongs();
        var strides = Shapes.RowMajorStrides(data.Shape);
        var sliceLength = (int)Tensor.ElementCount(data.Shape.AsSpan(batchDims + depth));
        var tuples = depth == 0 ? 0 : positions.Length / depth;
        var perBatch = (int)Tensor.ElementCount(indices.Shape.AsSpan(batchDims, indices.Rank - 1 - batchDims));
        var starts = new int[tuples];
        for (var t = 0; t < tuples; t++)
        {
            // Batch dims: the tuple's batch position, from its place among the indices.
            var batch = perBatch == 0 ? 0 : t / perBatch;
            var offset = 0;
            for (var b = batchDims - 1; b >= 0; b--)
            {
                offset += batch % data.Shape[b] * strides[b];
                batch /= data.Shape[b];
            }

            for (var k = 0; k < depth; k++)
            {
                offset += Position(positions[(t * depth) + k], data.Shape[batchDims + k], "index") * strides[batchDims + k];
            }

            starts[t] = offset;
        }

        return (starts, sliceLength);
    }

    private static Tensor GatherNd(OpContext c)
    {
        var (data, indices) = (c.Input(0), c.Input(1));
        var batchDims = (int)c.GetInt("batch_dims", 0);
        var shape = GatherNdShape([.. data.Shape.Select(d => (long)d)], [.. indices.Shape.Select(d => (long)d)], batchDims)!.Select(d => (int)d).ToArray();
        var (starts, sliceLength) = NdSlices(data, indices, batchDims);
        var map = new int[Tensor.CheckedCount(shape)];
        for (var t = 0; t < starts.Length; t++)
        {
            for (var e = 0; e < sliceLength; e++)
            {
                map[(t * sliceLength) + e] = starts[t] + e;
            }
        }

        return data.Gather(shape, map);
    }

    private static Tensor ScatterElements(OpContext c)
    {
        var (data, indices, updates) = (c.Input(0), c.Input(1), c.Input(2));
        var targets = ElementOffsets(data, indices, OpContext.Axis(c.GetInt("axis", 0), data.Rank));
        return Scatter(data, updates, targets, 1, c.GetString("reduction", "none"));
    }

    private static Tensor ScatterNd(OpContext c)
    {
        var (data, indices, updates) = (c.Input(0), c.Input(1), c.Input(2));
        var (starts, sliceLength) = NdSlices(data, indices, 0);
        if (updates.Length != starts.Length * sliceLength)
        {
            throw new ModelException($"updates {updates} do not fill the {starts.Length} slice(s) of {sliceLength} the indices address.");
        }

        return Scatter(data, updates, starts, sliceLength, c.GetString("reduction", "none"));
    }

    /// <summary>
    /// A copy of <paramref name="data"/> with run <c>t</c> of <paramref name="updates"/> (each
    /// <paramref name="run"/> long) placed at <paramref name="starts"/>[t], later runs over earlier ones,
    /// or combined with what is there under <paramref name="reduction"/>.
    /// </summary>
    private static Tensor Scatter(Tensor data, Tensor updates, int[] starts, int run, string reduction)
    {
        if (updates.Type != data.Type)
        {
            throw new ModelException($"updates are {updates.Type} and data {data.Type}; they must be of one type.");
        }

        if (reduction == "none")
        {
            // Both as one source: the copy's elements are data's, or the update's past data's end.
            var both = Tensor.Join(data.Type, [data.Length + updates.Length], [(data, 0, data.Length), (updates, 0, updates.Length)]);
            var map = new int[data.Length];
            for (var i = 0; i < map.Length; i++)
            {
                map[i] = i;
            }

            for (var t = 0; t < starts.Length; t++)
            {
                for (var e = 0; e < run; e++)
                {
                    map[starts[t] + e] = data.Length + (t * run) + e;
                }
            }

            return both.Gather(data.Shape, map);
        }

        if (data.Type == ElementType.Float32)
        {
            var y = data.Values.Span.ToArray();
            var u = updates.Values.Span;
            Func<float, float, float> combine = reduction switch
            {
                "add" => static (a, b) => a + b,
                "mul" => static (a, b) => a * b,
                "max" => MathF.Max,
                _ => MathF.Min,
            };
            for (var t = 0; t < starts.Length; t++)
            {
                for (var e = 0; e < run; e++)
                {
                    y[starts[t] + e] = combine(y[starts[t] + e], u[(t * run) + e]);
                }
            }

            return new Tensor(data.Shape, y);
        }

        if (data.Type == ElementType.Int64)
        {
            var (y, u) = (data.Longs.ToArray(), updates.Longs);
            Func<long, long, long> combine = reduction switch
            {
                "add" => static (a, b) => unchecked(a + b),
                "mul" => static (a, b) => unchecked(a * b),
                "max" => Math.Max,
                _ => Math.Min,
            };
            for (var t = 0; t < starts.Length; t++)
            {
                for (var e = 0; e < run; e++)
                {
                    y[starts[t] + e] = combine(y[starts[t] + e], u[(t * run) + e]);
                }
            }

            return Tensor.OfLongs(data.Shape, y);
        }

        throw new ModelException($"reduction '{reduction}' does not apply to {data.Type} values.");
    }

    private static Tensor OneHot(OpContext c)
    {
        var (indices, values) = (c.Input(0), c.Input(2));
        var depth = (int)Depth(c.Input(1));
        var axis = OpContext.Axis(c.GetInt("axis", -1), indices.Rank + 1);
        int[] shape = [.. indices.Shape[..axis], depth, .. indices.Shape[axis..]];
        var (outer, inner) = ((int)Tensor.ElementCount(indices.Shape.AsSpan(0, axis)), (int)Tensor.ElementCount(indices.Shape.AsSpan(axis)));
        var positions = indices.Type == ElementType.Float32 ? [.. indices.Data.Select(v => (long)v)] : indices.AsLongs();

        // values[0] is off and values[1] on: each element picks one of the two.
        var map = new int[Tensor.CheckedCount(shape)];
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < inner; i++)
            {
                var p = positions[(o * inner) + i];
                p = p < 0 ? p + depth : p;
                if (p >= 0 && p < depth)
                {
                    map[(((o * depth) + p) * inner) + i] = 1;
                }
            }
        }

        return values.Gather(shape, map);
    }

    private static Tensor NonZero(Tensor x)
    {
        var nonZero = new List<int>();
        var flat = x.Type switch
        {
            ElementType.Float32 => Enumerable.Range(0, x.Length).Where(i => x.Values[i] != 0),
            ElementType.Int64 => Enumerable.Range(0, x.Length).Where(i => x.Longs[i] != 0),
            _ => Enumerable.Range(0, x.Length).Where(i => x.Bools[i]),
        };
        nonZero.AddRange(flat);
        var rank = x.Rank;
        var result = new long[rank * nonZero.Count];
        for (var n = 0; n < nonZero.Count; n++)
        {
            var rest = nonZero[n];
            for (var d = rank - 1; d >= 0; d--)
            {
                result[(d * nonZero.Count) + n] = rest % x.Shape[d];
                rest /= x.Shape[d];
            }
        }

        return Tensor.OfLongs([rank, nonZero.Count], result);
    }

    private static Tensor[] TopK(OpContext c)
    {
        var x = c.Input(0);
        NotScalar([.. x.Shape.Select(d => (long)d)], "TopK");
        var k = c.Input(1).AsLongs() is [var count] ? count : throw new ModelException("K must be one integer.");
        var axis = OpContext.Axis(c.GetInt("axis", -1), x.Rank);
        var (outer, size, inner) = Reductions.Around(x.Shape, axis);
        if (k < 0 || k > size)
        {
            throw new ModelException($"K = {k} is outside 0..{size}, the size of axis {axis}.");
        }

        var (largest, sorted) = (c.GetInt("largest", 1) == 1, c.GetInt("sorted", 1) == 1);
        var keys = x.Type == ElementType.Float32 ? x.Values.Span.ToArray() : null;
        var key = x.Type == ElementType.Float32 ? null : x.AsLongs();
        int[] shape = [.. x.Shape.Select((d, i) => i == axis ? (int)k : d)];
        var picked = new int[Tensor.CheckedCount(shape)];
        var positions = new long[picked.Length];
        var order = new int[size];
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < inner; i++)
            {
                int Offset(int j) => (((o * size) + j) * inner) + i;
                for (var j = 0; j < size; j++)
                {
                    order[j] = j;
                }

                // Ties keep the lower index first, as ONNX asks.
                Comparison<int> compare = keys is not null
                    ? (a, b) => Compare(keys[Offset(a)], keys[Offset(b)], a, b, largest)
                    : (a, b) => Compare(key![Offset(a)], key[Offset(b)], a, b, largest);
                var chosen = order.AsSpan();
                chosen.Sort(compare);
                var top = chosen[..(int)k];
                if (!sorted)
                {
                    top.Sort();
                }

                for (var j = 0; j < top.Length; j++)
                {
                    var at = (((o * (int)k) + j) * inner) + i;
                    picked[at] = Offset(top[j]);
                    positions[at] = top[j];
                }
            }
        }

        return [x.Gather(shape, picked), Tensor.OfLongs(shape, positions)];

        static int Compare<T>(T a, T b, int ia, int ib, bool largest)
            where T : IComparable<T>
        {
            var byValue = largest ? b.CompareTo(a) : a.CompareTo(b);
            return byValue != 0 ? byValue : ia.CompareTo(ib);
        }
    }

    private static Tensor Trilu(OpContext c)
    {
        var x = c.Input(0);
        var k = c.Optional(1)?.AsLongs() is { } ks ? ks.Length == 1 ? ks[0] : throw new ModelException("k must be one integer.") : 0;
        var upper = c.GetInt("upper", 1) == 1;
        var (rows, columns) = (x.Shape[^2], x.Shape[^1]);

        // Kept elements point at themselves; the rest at a zero placed past the input's end.
        var zero = x.Type switch
        {
            ElementType.Float32 => new Tensor([1], [0f]),
            ElementType.Int64 => Tensor.OfLongs([1], [0]),
            _ => Tensor.OfBools([1], [false]),
        };
        var both = Tensor.Join(x.Type, [x.Length + 1], [(x, 0, x.Length), (zero, 0, 1)]);
        var map = new int[x.Length];
        for (var i = 0; i < map.Length; i++)
        {
            var (row, column) = (i / columns % rows, i % columns);
            var keep = upper ? column - row >= k : column - row <= k;
            map[i] = keep ? i : x.Length;
        }

        return both.Gather(x.Shape, map);
    }

    private static Tensor CumSum(OpContext c)
    {
        var x = c.Input(0);
        NotScalar([.. x.Shape.Select(d => (long)d)], "CumSum");
        var axis = OpContext.Axis(c.Input(1).AsLongs() is [var a] ? a : throw new ModelException("axis must be one integer."), x.Rank);
        var (exclusive, reverse) = (c.GetInt("exclusive", 0) == 1, c.GetInt("reverse", 0) == 1);
        var line = Reductions.Around(x.Shape, axis);
        return x.Type == ElementType.Float32
            ? new Tensor(x.Shape, RunningSums(x.Values.Span.ToArray(), line, exclusive, reverse))
            : Tensor.OfLongs(x.Shape, RunningSums(x.AsLongs().ToArray(), line, exclusive, reverse));
    }

    /// <summary>Running sums along the axis, in place: each element the sum so far, with its own value or (exclusive) without.</summary>
    private static T[] RunningSums<T>(T[] values, (int Outer, int Size, int Inner) line, bool exclusive, bool reverse)
        where T : System.Numerics.INumber<T>
    {
        var (outer, size, inner) = line;
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < inner; i++)
            {
                var running = T.Zero;
                for (var step = 0; step < size; step++)
                {
                    var at = (((o * size) + (reverse ? size - 1 - step : step)) * inner) + i;
                    var own = values[at];
                    values[at] = exclusive ? running : running + own;
                    running += own;
                }
            }
        }

        return values;
    }

    private static Tensor Range(OpContext c)
    {
        var (start, limit, delta) = (c.Input(0), c.Input(1), c.Input(2));
        var count = (int)RangeCount(start, limit, delta);
        if (start.Type == ElementType.Int64)
        {
            var (s, d) = (start.Longs[0], delta.Longs[0]);
            return Tensor.OfLongs([count], [.. Enumerable.Range(0, count).Select(i => unchecked(s + (i * d)))]);
        }

        var (fs, fd) = (start.Data[0], delta.Data[0]);

        // ONNX defines the elements as repeated addition of delta (its reference adds in the element type).
        var values = new float[count];
        var value = fs;
        for (var i = 0; i < count; i++)
        {
            values[i] = value;
            value += fd;
        }

        return new Tensor([count], values);
    }
}
