using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Gpu;
using Cocoon.Agent.Inference.Graph;
using Cocoon.Agent.Inference.Memory;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// 2-D image operators on NCHW tensors: Conv and ConvTranspose (<c>SpatialConvolution.cs</c>),
/// Max/Average/GlobalAverage pooling, InstanceNormalization, and the windows they share.
/// </summary>
[OperatorFamily]
internal static partial class Spatial
{
    public static IEnumerable<OperatorSchema> Declare()
    {
        yield return new OperatorSchema
        {
            Name = "Conv",
            Attributes = [.. WindowAttributes, AttributeDeclaration.Int("group", 1, int.MaxValue), FusionAttributes.Activation, FusionAttributes.Pool],
            Inputs = new(2, 3),
            InputTypes = [ElementTypes.Float],
            Shape = ConvShape,
            Flops = static (c, results) => ConvolutionFlops(c.Node, results[0], c.Input(1)),
            Run = Conv,
            FusedActivations = [Activation.Relu],
        };
        yield return new OperatorSchema
        {
            Name = "ConvTranspose",
            Attributes = [.. WindowAttributes, AttributeDeclaration.Int("group", 1, int.MaxValue), AttributeDeclaration.Ints("output_padding", 0, int.MaxValue), AttributeDeclaration.Ints("output_shape", 0, int.MaxValue)],
            Inputs = new(2, 3),
            InputTypes = [ElementTypes.Float],
            Shape = ConvTransposeShape,
            Flops = static (c, _) => 2L * c.Input(0).Length * c.Input(1).Shape[1] * c.Input(1).Shape[2] * c.Input(1).Shape[3],
            Run = ConvTranspose,
        };
        yield return Pooling("MaxPool", c => [Pool(c, max: true)], AttributeDeclaration.Int("storage_order", 0, 1)) with { Outputs = new(1, 1) };
        yield return Pooling("AveragePool", c => [Pool(c, max: false)], AttributeDeclaration.Int("count_include_pad", 0, 1));
        yield return new OperatorSchema
        {
            Name = "GlobalAveragePool",
            InputTypes = [ElementTypes.Float],
            Shape = c =>
            {
                if (c.In(0) is { Length: < 3 } x)
                {
                    throw new ModelException($"GlobalAveragePool needs [N, C, spatial…]; the input has rank {x.Length}.");
                }

                return [c.In(0) is { } g ? [g[0], g[1], .. g.Skip(2).Select(_ => 1L)] : null];
            },
            Run = GlobalAveragePool,
        };
        yield return new OperatorSchema
        {
            Name = "LRN",
            Attributes = [AttributeDeclaration.Float("alpha"), AttributeDeclaration.Float("beta"), AttributeDeclaration.Float("bias"), AttributeDeclaration.Int("size", 1, 1 << 16)],
            InputTypes = [ElementTypes.Float],
            Shape = c =>
            {
                if (c.In(0) is { Length: < 3 })
                {
                    throw new ModelException($"LRN needs [N, C, spatial…]; the input has rank {c.In(0)!.Length}.");
                }

                return [c.In(0)];
            },
            Run = c => [Lrn(c)],
        };
        yield return new OperatorSchema
        {
            Name = "InstanceNormalization",
            Attributes = [AttributeDeclaration.Float("epsilon")],
            Inputs = new(3, 3),
            InputTypes = [ElementTypes.Float],
            Shape = c =>
            {
                var x = c.In(0);
                if (x is { Length: < 3 })
                {
                    throw new ModelException($"InstanceNormalization needs [N, C, spatial…]; the input has rank {x.Length}.");
                }

                foreach (var p in new[] { c.In(1), c.In(2) }.OfType<long[]>())
                {
                    Dims.Rank(p, 1, "scale or bias");
                    if (x is not null)
                    {
                        Dims.Same(p[0], x[1], "the channels and the scale's length");
                    }
                }

                return [x];
            },
            Run = InstanceNormalization,
        };
    }

    /// <summary>The attributes every windowed operator has (strides, dilations and pads at least 1, 1 and 0).</summary>
    private static readonly AttributeDeclaration[] WindowAttributes =
    [
        AttributeDeclaration.String("auto_pad", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"),
        AttributeDeclaration.Ints("kernel_shape", 1, int.MaxValue),
        AttributeDeclaration.Ints("strides", 1, int.MaxValue),
        AttributeDeclaration.Ints("dilations", 1, int.MaxValue),
        AttributeDeclaration.Ints("pads", 0, int.MaxValue),
    ];

    private static OperatorSchema Pooling(string name, Func<OpContext, Tensor[]> run, AttributeDeclaration extra) => new()
    {
        Name = name,
        Attributes = [.. WindowAttributes, AttributeDeclaration.Int("ceil_mode", 0, 1), extra],
        InputTypes = [ElementTypes.Float],
        Shape = c => [WindowShape(c, c.In(0), null, pooling: true)],
        Run = run,
    };

    private static long[]?[] ConvShape(ShapeContext c)
    {
        var (x, w, bias) = (c.In(0), c.In(1), c.In(2));
        if (w is not null && w.Length is not (4 or 5))
        {
            throw new ModelException($"the weight ([M, C/group, kernel…]) has rank {w.Length}; 2-D and 3-D windows are implemented (1-D ones run as 2-D).");
        }

        var group = c.GetInt("group", 1);
        if (w is not null && w[0] >= 0 && w[0] % group != 0)
        {
            throw new ModelException($"{w[0]} filters do not split into {group} groups.");
        }

        if (x is { Length: 4 or 5 } && w is not null && x[1] >= 0 && w[1] >= 0 && x[1] != w[1] * group)
        {
            throw new ModelException($"the input has {x[1]} channels; the weight expects {w[1]} per group in {group} group(s).");
        }

        if (bias is not null)
        {
            Dims.Rank(bias, 1, "the bias");
            Dims.Same(bias[0], w?[0] ?? Dims.Unknown, "the bias's length and the filters");
        }

        return [WindowShape(c, x, w, pooling: false)];
    }

    /// <summary>
    /// Conv and pooling: [N, filters or C, spatial…], the spatial sizes through the operator's own window
    /// arithmetic (<see cref="Windows"/>, which the kernels use too). A kernel_shape that disagrees with
    /// the weight's window is refused: the kernels would walk the weights by one and pack them by the other.
    /// </summary>
    private static long[]? WindowShape(ShapeContext c, long[]? x, long[]? w, bool pooling)
    {
        var kernel = c.GetInts("kernel_shape");
        if (pooling && kernel is null)
        {
            throw new ModelException("kernel_shape is required.");
        }

        var spatialRank = kernel?.Length ?? (w is { Length: > 2 } ? w.Length - 2 : x is { Length: > 2 } ? x.Length - 2 : 2);
        if (spatialRank is not (2 or 3))
        {
            throw new ModelException($"kernel_shape has {spatialRank} values; 2-D and 3-D windows are implemented (1-D ones run as 2-D).");
        }

        CheckWindowAttributes(c, spatialRank);
        if (w is not null && kernel is not null && (w.Length != spatialRank + 2 || kernel.Where((k, d) => w[d + 2] >= 0 && k != w[d + 2]).Any()))
        {
            throw new ModelException($"kernel_shape [{string.Join(", ", kernel)}] does not match the weight's {Dims.Describe(w[2..])} window.");
        }

        if (x is null)
        {
            return null;
        }

        Dims.Rank(x, spatialRank + 2, $"the input ([N, C, {spatialRank} spatial dimensions])");
        var window = kernel ?? (w is not null && w[2..].All(k => k >= 0) ? w[2..] : null);
        long[] spatial = [.. Enumerable.Repeat(Dims.Unknown, spatialRank)];
        if (window is not null && x[2..].All(d => d is >= 0 and <= int.MaxValue) && window.All(k => k <= int.MaxValue))
        {
            var win = Windows(c, [.. x[2..].Select(d => (int)d)], [.. window.Select(k => (int)k)], ceil: pooling && c.GetInt("ceil_mode", 0) == 1);
            spatial = [.. win.Select(v => (long)v.Output)];
        }

        if (!pooling && GraphFusion.Pooled(c.Node))
        {
            spatial = [.. spatial.Select(d => d >= 0 ? d / 2 : d)];
        }

        return [x[0], pooling ? x[1] : w?[0] ?? Dims.Unknown, .. spatial];
    }

    /// <summary>The lengths of strides, dilations and pads for a 2-D window, checked whatever the shapes.</summary>
    private static void CheckWindowAttributes(OpContext c, int rank = 2)
    {
        foreach (var (name, length) in new[] { ("strides", rank), ("dilations", rank), ("pads", 2 * rank), ("output_padding", rank) })
        {
            if (c.GetInts(name) is { } values && values.Length != length)
            {
                throw new ModelException($"{name} has {values.Length} values; a {rank}-D window takes {length}.");
            }
        }
    }

    private static long[]?[] ConvTransposeShape(ShapeContext c)
    {
        var (x, w, bias) = (c.In(0), c.In(1), c.In(2));
        Dims.Rank(x, 4, "the input ([N, C, H, W]; 2-D images only)");
        Dims.Rank(w, 4, "the weight ([C, M/group, kH, kW])");
        CheckWindowAttributes(c);
        var group = c.GetInt("group", 1);
        if (x is not null && w is not null)
        {
            Dims.Same(x[1], w[0], "the input's channels and the weight's first dimension");
            if (x[1] >= 0 && x[1] % group != 0)
            {
                throw new ModelException($"{x[1]} input channels do not split into {group} groups.");
            }
        }

        var kernel = c.GetInts("kernel_shape");
        if (kernel is not null && w is not null && (kernel.Length != 2 || (w[2] >= 0 && kernel[0] != w[2]) || (w[3] >= 0 && kernel[1] != w[3])))
        {
            throw new ModelException($"kernel_shape [{string.Join(", ", kernel)}] does not match the weight's {Dims.Describe(w[2..])} window.");
        }

        var filters = w is null || w[1] < 0 ? Dims.Unknown : w[1] * group;
        if (bias is not null)
        {
            Dims.Rank(bias, 1, "the bias");
            Dims.Same(bias[0], filters, "the bias's length and the output channels");
        }

        if (x is null)
        {
            return [null];
        }

        long[] spatial = [Dims.Unknown, Dims.Unknown];
        if (w is not null && x[2..].All(d => d is >= 0 and <= int.MaxValue) && w[2..].All(d => d is >= 0 and <= int.MaxValue))
        {
            var (size, _) = TransposedWindows(c, [(int)x[2], (int)x[3]], [(int)w[2], (int)w[3]]);
            spatial = [size[0], size[1]];
        }

        return [[x[0], filters, .. spatial]];
    }

    /// <summary>
    /// A transposed convolution's output size and leading padding per spatial axis: output_shape where
    /// given, SAME padding's input × stride, else the natural size less the pads; refused when not positive.
    /// </summary>
    internal static (int[] Size, int[] PadBegin) TransposedWindows(OpContext c, int[] input, int[] kernel)
    {
        var strides = c.GetInts("strides") ?? [1, 1];
        var dilations = c.GetInts("dilations") ?? [1, 1];
        var outputPadding = c.GetInts("output_padding") ?? [0, 0];
        var pads = c.GetInts("pads") ?? [0, 0, 0, 0];
        var requested = c.GetInts("output_shape");
        var autoPad = c.GetString("auto_pad", "NOTSET");
        if (requested is { Length: < 2 })
        {
            throw new ModelException("output_shape needs the two spatial sizes.");
        }

        var size = new int[2];
        var padBegin = new int[2];
        for (var d = 0; d < 2; d++)
        {
            var natural = checked((strides[d] * (input[d] - 1L)) + outputPadding[d] + ((kernel[d] - 1L) * dilations[d]) + 1);
            long outSize, begin;
            if (requested is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                outSize = requested is not null ? requested[^(2 - d)] : input[d] * strides[d];
                var total = natural - outSize;
                begin = autoPad == "SAME_UPPER" ? total / 2 : total - (total / 2);
            }
            else
            {
                begin = pads[d];
                outSize = natural - pads[d] - pads[d + 2];
            }

            if (outSize < 0 || outSize > int.MaxValue || Math.Abs(begin) > int.MaxValue)
            {
                throw new ModelException($"the transposed convolution's output would have {outSize} rows or columns.");
            }

            (size[d], padBegin[d]) = ((int)outSize, (int)begin);
        }

        return (size, padBegin);
    }

    /// <summary>
    /// A Conv's FLOPs: two per multiply-add at every output pixel; with a max pool folded in, at the four
    /// pixels under each pooled one, plus the pool's one per output element (what the two nodes would bill).
    /// </summary>
    private static long ConvolutionFlops(Onnx.NodeProto node, Tensor output, Tensor weight)
    {
        var perPixel = 2L * Tensor.ElementCount(weight.Shape.AsSpan(1));
        return GraphFusion.Pooled(node)
            ? (4 * output.Length * perPixel) + output.Length
            : output.Length * perPixel;
    }

    /// <summary>The kernels' description of a window over an [N, C, H, W] input.</summary>
    private static ConvArguments Arguments(int[] input, Window[] win) => new()
    {
        Batch = input[0],
        Channels = input[1],
        Height = input[2],
        Width = input[3],
        KernelHeight = win[0].Kernel,
        KernelWidth = win[1].Kernel,
        OutHeight = win[0].Output,
        OutWidth = win[1].Output,
        StrideY = win[0].Stride,
        StrideX = win[1].Stride,
        DilationY = win[0].Dilation,
        DilationX = win[1].Dilation,
        PadTop = win[0].PadBegin,
        PadLeft = win[1].PadBegin,
        PadBottom = win[0].PadEnd,
        PadRight = win[1].PadEnd,
    };

    internal static Window[] Windows(OpContext c, int[] input, int[] kernel, bool ceil = false)
    {
        var rank = kernel.Length;
        var strides = c.GetInts("strides") ?? [.. Enumerable.Repeat(1L, rank)];
        var dilations = c.GetInts("dilations") ?? [.. Enumerable.Repeat(1L, rank)];
        var pads = c.GetInts("pads") ?? new long[2 * rank];
        var autoPad = c.GetString("auto_pad", "NOTSET");
        if (strides.Length != rank || dilations.Length != rank || pads.Length != 2 * rank || strides.Any(s => s < 1) || dilations.Any(d => d < 1) || pads.Any(p => p < 0))
        {
            throw new ModelException($"strides, dilations and pads do not fit a {rank}-D kernel.");
        }

        // In 64 bits, then refused unless every size a kernel indexes with fits 32: attributes up to
        // int.MaxValue would otherwise wrap the window arithmetic into a geometry the rule accepts.
        var windows = new Window[rank];
        for (var d = 0; d < rank; d++)
        {
            var (k, s, dil) = ((long)kernel[d], strides[d], dilations[d]);
            var span = ((k - 1) * dil) + 1;
            long begin, end, output;
            switch (autoPad)
            {
                case "SAME_UPPER" or "SAME_LOWER":
                    output = (input[d] + s - 1) / s;
                    var total = Math.Max(((output - 1) * s) + span - input[d], 0);
                    (begin, end) = autoPad == "SAME_UPPER" ? (total / 2, total - (total / 2)) : (total - (total / 2), total / 2);
                    break;
                case "VALID":
                    (begin, end) = (0, 0);
                    output = ((input[d] - span) / s) + 1;
                    break;
                case "NOTSET":
                    (begin, end) = (pads[d], pads[d + rank]);
                    var room = input[d] + begin + end - span;
                    output = (ceil ? (room + s - 1) / s : room / s) + 1;
                    if (ceil && (output - 1) * s >= input[d] + begin)
                    {
                        output--;
                    }

                    break;
                default:
                    throw new ModelException($"auto_pad {autoPad} is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID.");
            }

            if (output < 0 || input[d] + begin + end < span)
            {
                throw new ModelException($"a kernel spanning {span} does not fit an input of {input[d]} with padding {begin}+{end}.");
            }

            if (span > int.MaxValue || input[d] + begin + end > int.MaxValue || output > int.MaxValue || s > int.MaxValue || dil > int.MaxValue)
            {
                throw new ModelException($"a window spanning {span} over {input[d]} with padding {begin}+{end} is larger than any tensor.");
            }

            windows[d] = new Window((int)k, (int)s, (int)dil, (int)begin, (int)end, (int)output);
        }

        return windows;
    }

    private static Tensor Pool(OpContext c, bool max)
    {
        // The declaration checked the rank, kernel_shape and the outputs (no Indices) before the kernel (NodeGuard).
        var x = c.Input(0);
        if (x.Rank == 5)
        {
            return PoolVolume(c, max);
        }

        var kernel = c.GetInts("kernel_shape")!.Select(k => (int)k).ToArray();
        var win = Windows(c, [x.Shape[2], x.Shape[3]], kernel, ceil: c.GetInt("ceil_mode", 0) == 1);
        var includePad = c.GetInt("count_include_pad", 0) == 1;
        var (planes, height, width) = (x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3]);
        var (oh, ow) = (win[0].Output, win[1].Output);
        if (c.Gpu is { } gpu)
        {
            Tensor.CheckedCount([planes, oh, ow]);
            return gpu.Pool(x, Arguments(x.Shape, win) with { Max = max ? 1 : 0, IncludePad = includePad ? 1 : 0 });
        }

        var y = Buffers.Overwritten(Tensor.CheckedCount([planes, oh, ow]));
        var data = x.Values;
        if (max && win.All(v => v is { Kernel: 2, Stride: 2, Dilation: 1, PadBegin: 0 }) && oh * 2 <= height && ow * 2 <= width)
        {
            MaxPool2x2(data, height, width, y, oh, ow);
            return new Tensor([x.Shape[0], x.Shape[1], oh, ow], y);
        }

        var (rows, columns) = (Reach(win[0], height), Reach(win[1], width));

        // Separable: each output row first reduces its window's input rows into one line (vectorised
        // across the width), then each output pixel reduces its columns of that line.
        void Plane(int p)
        {
            var source = data.AsSpan(p * height * width, height * width);
            var target = y.AsSpan(p * oh * ow, oh * ow);
            Span<float> line = width <= 1024 ? stackalloc float[width] : new float[width];
            for (var oy = 0; oy < oh; oy++)
            {
                var (ky0, ky1, kyPadded) = rows[oy];
                var iy0 = (oy * win[0].Stride) - win[0].PadBegin;
                if (ky1 <= ky0)
                {
                    target.Slice(oy * ow, ow).Fill(max ? float.NegativeInfinity : 0f);
                    continue;
                }

                source.Slice((iy0 + (ky0 * win[0].Dilation)) * width, width).CopyTo(line);
                for (var ky = ky0 + 1; ky < ky1; ky++)
                {
                    var row = source.Slice((iy0 + (ky * win[0].Dilation)) * width, width);
                    if (max)
                    {
                        TensorPrimitives.Max(line, row, line);
                    }
                    else
                    {
                        TensorPrimitives.Add(line, row, line);
                    }
                }

                for (var ox = 0; ox < ow; ox++)
                {
                    var (kx0, kx1, kxPadded) = columns[ox];
                    var ix0 = (ox * win[1].Stride) - win[1].PadBegin;
                    var value = max ? float.NegativeInfinity : 0f;
                    for (var kx = kx0; kx < kx1; kx++)
                    {
                        var v = line[ix0 + (kx * win[1].Dilation)];
                        value = max ? MathF.Max(value, v) : value + v;
                    }

                    var divisor = includePad ? kyPadded * kxPadded : (ky1 - ky0) * (kx1 - kx0);
                    target[(oy * ow) + ox] = max ? value : value / Math.Max(1, divisor);
                }
            }
        }

        if (planes > 1 && (long)y.Length * win[0].Kernel * win[1].Kernel >= 1 << 18)
        {
            Workers.For(planes, Plane);
        }
        else
        {
            for (var p = 0; p < planes; p++)
            {
                Plane(p);
            }
        }

        return new Tensor([x.Shape[0], x.Shape[1], oh, ow], y);
    }

    /// <summary>
    /// The common 2×2 / 2 max pool of every plane of <paramref name="x"/> into <paramref name="y"/>,
    /// every window inside the image (<paramref name="oh"/> · 2 ≤ <paramref name="height"/>, likewise
    /// the width): vectorised, planes split across cores.
    /// </summary>
    private static void MaxPool2x2(FloatBuffer x, int height, int width, FloatBuffer y, int oh, int ow) =>
        Chunks.For(y.Length, oh * ow, (start, count) =>
        {
            for (var p = start / (oh * ow); p < (start + count) / (oh * ow); p++)
            {
                MaxPool2x2(x.AsSpan(p * height * width, height * width), width, y.AsSpan(p * oh * ow, oh * ow), ow);
            }
        });

    /// <summary>
    /// One plane's 2×2 / 2 max pool: the two input rows under an output row are maxed together, then
    /// neighbouring columns, eight outputs per step (de-interleaving even and odd columns with shuffles).
    /// </summary>
    private static void MaxPool2x2(ReadOnlySpan<float> plane, int width, Span<float> output, int ow)
    {
        for (var oy = 0; oy < output.Length / ow; oy++)
        {
            var top = plane.Slice(2 * oy * width, 2 * ow);
            var bottom = plane.Slice(((2 * oy) + 1) * width, 2 * ow);
            var line = output.Slice(oy * ow, ow);
            var ox = 0;
            if (Avx2.IsSupported)
            {
                ref var t = ref MemoryMarshal.GetReference(top);
                ref var b = ref MemoryMarshal.GetReference(bottom);
                ref var o = ref MemoryMarshal.GetReference(line);
                for (; ox + 8 <= ow; ox += 8)
                {
                    var at = (nuint)(2 * ox);
                    var low = Avx.Max(Vector256.LoadUnsafe(ref t, at), Vector256.LoadUnsafe(ref b, at));
                    var high = Avx.Max(Vector256.LoadUnsafe(ref t, at + 8), Vector256.LoadUnsafe(ref b, at + 8));

                    // Within each 128-bit lane: even columns of low, then of high; likewise odd. The max
                    // comes out in lane order 0 1 4 5 2 3 6 7, which one 64-bit permute puts right.
                    var pairs = Avx.Max(Avx.Shuffle(low, high, 0b10_00_10_00), Avx.Shuffle(low, high, 0b11_01_11_01));
                    Avx2.Permute4x64(pairs.AsDouble(), 0b11_01_10_00).AsSingle().StoreUnsafe(ref o, (nuint)ox);
                }
            }

            for (; ox < ow; ox++)
            {
                line[ox] = MathF.Max(MathF.Max(top[2 * ox], top[(2 * ox) + 1]), MathF.Max(bottom[2 * ox], bottom[(2 * ox) + 1]));
            }
        }
    }

    /// <summary>
    /// Per output position along one axis, the kernel taps [First, Last) that land inside the input,
    /// and how many land inside the input or its trailing padding (what count_include_pad divides by).
    /// </summary>
    private static (int First, int Last, int Padded)[] Reach(Window w, int size)
    {
        var reach = new (int, int, int)[w.Output];
        for (var o = 0; o < w.Output; o++)
        {
            var start = (o * w.Stride) - w.PadBegin;
            int Taps(int limit) => Math.Clamp(limit - start <= 0 ? 0 : ((limit - start - 1) / w.Dilation) + 1, 0, w.Kernel);
            var first = start >= 0 ? 0 : Math.Min(w.Kernel, (-start + w.Dilation - 1) / w.Dilation);
            reach[o] = (first, Math.Max(first, Taps(size)), Taps(size + w.PadEnd));
        }

        return reach;
    }

    private static Tensor[] GlobalAveragePool(OpContext c)
    {
        var x = c.Input(0);
        var plane = (int)Tensor.ElementCount(x.Shape.AsSpan(2));
        var planes = x.Shape[0] * x.Shape[1];
        int[] shape = [x.Shape[0], x.Shape[1], .. Enumerable.Repeat(1, x.Rank - 2)];
        if (c.Gpu is { } gpu)
        {
            return [gpu.Reduce(x, plane, 1, op: 1, shape, empty: float.NaN)];
        }

        var (data, y) = (x.Values, Buffers.Overwritten(planes));
        for (var p = 0; p < planes; p++)
        {
            y[p] = plane == 0 ? float.NaN : System.Numerics.Tensors.TensorPrimitives.Sum<float>(data.AsSpan(p * plane, plane)) / plane;
        }

        return [new Tensor(shape, y)];
    }

    /// <summary>
    /// Local response normalization across channels: y = x / (bias + alpha/size · Σ x²)^beta, the sum over the
    /// channels from c − ⌊(size−1)/2⌋ to c + ⌈(size−1)/2⌉ that exist.
    /// </summary>
    private static Tensor Lrn(OpContext c)
    {
        var x = c.Input(0);
        if (!c.Node.Attribute.Any(a => a.Name == "size"))
        {
            throw new ModelException("LRN needs its size attribute.");
        }

        var size = (int)c.GetInt("size", 1);
        var (alpha, beta, bias) = (c.GetFloat("alpha", 1e-4f), c.GetFloat("beta", 0.75f), c.GetFloat("bias", 1f));
        var (channels, inner) = (x.Shape[1], (int)Tensor.ElementCount(x.Shape.AsSpan(2)));
        if (c.Gpu is { } gpu)
        {
            return gpu.Lrn(x, channels, inner, size, alpha, beta, bias);
        }

        // Plane by plane, vectorised: the squares once, each plane's window of squared planes summed into
        // its output, then scaled, raised to −β and multiplied by the plane itself.
        var (data, y) = (x.Values, Buffers.Overwritten(x.Length));
        var (below, above) = ((size - 1) / 2, size - 1 - ((size - 1) / 2));
        var squares = Scratch.Rent(x.Length);
        try
        {
            TensorPrimitives.Multiply(data.Span, data.Span, squares.AsSpan(0, x.Length));
            var planes = x.Length / Math.Max(1, inner);
            Chunks.For(planes * inner, inner, (start, count) =>
            {
                var quarter = beta == 0.75f ? Scratch.Rent(inner) : [];
                try
                {
                    for (var p = start / inner; p < (start + count) / inner; p++)
                    {
                        var (image, ch) = Math.DivRem(p, channels);
                        var target = y.Span.Slice(p * inner, inner);
                        target.Clear();
                        for (var k = Math.Max(0, ch - below); k <= Math.Min(channels - 1, ch + above); k++)
                        {
                            TensorPrimitives.Add(target, squares.AsSpan(((image * channels) + k) * inner, inner), target);
                        }

                        TensorPrimitives.Multiply(target, alpha / size, target);
                        TensorPrimitives.Add(target, bias, target);
                        if (beta == 0.75f)
                        {
                            // AlexNet's and most LRNs' β: t^0.75 as √t · √√t, two square roots in place of a log and an exp.
                            TensorPrimitives.Sqrt(target, target);
                            TensorPrimitives.Sqrt(target, quarter.AsSpan(0, inner));
                            TensorPrimitives.Multiply(target, quarter.AsSpan(0, inner), target);
                            TensorPrimitives.Divide(data.Span.Slice(p * inner, inner), target, target);
                        }
                        else
                        {
                            TensorPrimitives.Pow(target, -beta, target);
                            TensorPrimitives.Multiply(target, data.Span.Slice(p * inner, inner), target);
                        }
                    }
                }
                finally
                {
                    Scratch.Return(quarter);
                }
            });
        }
        finally
        {
            Scratch.Return(squares);
        }

        return new Tensor(x.Shape, y);
    }

    private static Tensor[] InstanceNormalization(OpContext c)
    {
        var x = c.Input(0);
        var (scale, bias) = (c.Input(1).Data, c.Input(2).Data);
        var epsilon = c.GetFloat("epsilon", 1e-5f);

        if (c.Gpu is { } gpu)
        {
            return [gpu.InstanceNorm(x, c.Input(1), c.Input(2), epsilon)];
        }

        var plane = (int)Tensor.ElementCount(x.Shape.AsSpan(2));
        var y = Buffers.Floats(x.Length);
        for (var p = 0; p < x.Shape[0] * x.Shape[1]; p++)
        {
            var values = x.Values.AsSpan(p * plane, plane);
            double mean = 0, variance = 0;
            foreach (var v in values)
            {
                mean += v;
            }

            mean /= plane;
            foreach (var v in values)
            {
                variance += (v - mean) * (v - mean);
            }

            var inverse = 1 / Math.Sqrt((variance / plane) + epsilon);
            var ch = p % x.Shape[1];
            for (var i = 0; i < plane; i++)
            {
                y[(p * plane) + i] = (float)(((values[i] - mean) * inverse * scale[ch]) + bias[ch]);
            }
        }

        return [new Tensor(x.Shape, y)];
    }
}
