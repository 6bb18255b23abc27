using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cocoon.Agent.Inference.Gpu;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// 2-D image operators on NCHW tensors: Conv (groups, strides, pads, dilations, auto_pad) as im2col
/// plus matrix products, ConvTranspose, Max/Average/GlobalAverage pooling, InstanceNormalization.
/// </summary>
internal static class Spatial
{
    public static void Register(Dictionary<string, Func<OpContext, Tensor[]>> ops)
    {
        ops["Conv"] = Conv;
        ops["ConvTranspose"] = ConvTranspose;
        ops["MaxPool"] = c => [Pool(c, max: true)];
        ops["AveragePool"] = c => [Pool(c, max: false)];
        ops["GlobalAveragePool"] = GlobalAveragePool;
        ops["InstanceNormalization"] = InstanceNormalization;
    }

    /// <summary>Per spatial axis: kernel, stride, dilation, padding before and after, output size.</summary>
    internal readonly record struct Window(int Kernel, int Stride, int Dilation, int PadBegin, int PadEnd, int Output)
    {
        public int Span => ((Kernel - 1) * Dilation) + 1;
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

        var windows = new Window[rank];
        for (var d = 0; d < rank; d++)
        {
            var (k, s, dil) = (kernel[d], (int)strides[d], (int)dilations[d]);
            var span = ((k - 1) * dil) + 1;
            int begin, end, output;
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
                    (begin, end) = ((int)pads[d], (int)pads[d + rank]);
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

            windows[d] = new Window(k, s, dil, begin, end, output);
        }

        return windows;
    }

    private static Tensor[] Conv(OpContext c)
    {
        var (x, w) = (c.Input(0), c.Input(1));
        if (x.Rank != 4 || w.Rank != 4)
        {
            throw new ModelException($"only 2-D convolutions are supported (input [N, C, H, W], weight [M, C/group, kH, kW]); got {x} and {w}.");
        }

        var group = (int)c.GetInt("group", 1);
        var (n, channels, height, width) = (x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]);
        var (filters, perGroup, kh, kw) = (w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]);
        if (group < 1 || channels % group != 0 || filters % group != 0 || perGroup != channels / group)
        {
            throw new ModelException($"{channels} input channels, {filters} filters of {perGroup} channels and group {group} do not fit together.");
        }

        var kernel = c.GetInts("kernel_shape")?.Select(k => (int)k).ToArray() ?? [kh, kw];
        var win = Windows(c, [height, width], kernel);
        var (oh, ow) = (win[0].Output, win[1].Output);
        var biasTensor = c.Optional(2);
        if (c.Gpu is { } gpu)
        {
            var convolved = gpu.Conv(x, w, biasTensor, Arguments(x.Shape, win) with { Filters = filters, Group = group, HasBias = biasTensor is null ? 0 : 1 }, transposed: false);
            return [c.Activate(gpu, convolved)];
        }

        var bias = biasTensor?.Data;
        var filtersPerGroup = filters / group;
        var patch = perGroup * kh * kw;
        var pixels = oh * ow;
        var columnCount = Tensor.CheckedCount([patch, oh, ow]);
        var y = Buffers.Overwritten(Tensor.CheckedCount([n, filters, oh, ow]));
        var (xData, wData) = (x.Values, w.Data);
        var activation = c.FusedActivation;

        // A 1×1 kernel with stride 1 and no padding reads the image as it lies: no unfolding.
        var direct = kh == 1 && kw == 1 && win.All(v => v.Stride == 1 && v.PadBegin == 0 && v.PadEnd == 0);

        // Images (and groups) are independent: with enough of them, each core takes whole images with a
        // single-threaded product, rather than every product being split across cores.
        var tasks = n * group;
        var work = (long)tasks * filtersPerGroup * patch * pixels;
        var perTask = tasks >= Workers.Count && work >= GemmKernel.ParallelThreshold;

        // Otherwise each image's output rows are cut into bands, one per core, and every core unfolds
        // and multiplies its own band: the unfolded columns it writes stay in its own cache, where
        // unfolding on one core and multiplying on all cost as much again in cache traffic.
        var bands = perTask || work < GemmKernel.ParallelThreshold ? 1 : Math.Min(Workers.Count, oh);

        if (!direct && DirectConv.Fits(filtersPerGroup, oh, ow, win, activation))
        {
            var packed = c.PackedWeight(w, "direct conv", w.Length, () => DirectConv.Pack(wData, filters, perGroup, kh * kw))
                ?? DirectConv.Pack(wData, filters, perGroup, kh * kw);
            ConvDirect(xData, channels, height, width, win, packed, filters, perGroup, group, tasks, perTask, bias, activation, y, oh, ow);
            return [new Tensor([n, filters, oh, ow], y)];
        }

        // Rows [oy0, oy1) of image and group `task`: unfolded into `columns` (pixel columns
        // [oy0·ow, oy1·ow) of every row), then multiplied; each filter's bias starts its output plane
        // and the fused activation runs as the planes finish.
        void Band(int task, float[] columns, int oy0, int oy1)
        {
            var (b, g) = Math.DivRem(task, group);
            var imageAt = ((b * channels) + (g * perGroup)) * height * width;
            if (!direct)
            {
                Im2Col(xData.AsSpan(imageAt, perGroup * height * width), perGroup, height, width, win, columns, oy0, oy1);
            }

            var outputAt = ((b * filters) + (g * filtersPerGroup)) * pixels;
            GemmKernel.MultiplyColumns(wData, g * filtersPerGroup * patch, direct ? xData.Array : columns, direct ? xData.Offset + imageAt : 0, y.Array, y.Offset + outputAt, filtersPerGroup, patch, pixels,
                oy0 * ow, oy1 * ow, new Epilogue(RowBias: bias, RowBiasAt: g * filtersPerGroup, Activation: activation));
        }

        if (perTask)
        {
            Workers.For(tasks, task =>
            {
                var columns = direct ? [] : ArrayPool<float>.Shared.Rent(columnCount);
                Band(task, columns, 0, oh);
                ArrayPool<float>.Shared.Return(columns);
            });
        }
        else
        {
            var columns = direct ? [] : ArrayPool<float>.Shared.Rent(columnCount);
            for (var task = 0; task < tasks; task++)
            {
                Workers.For(bands, band => Band(task, columns, oh * band / bands, oh * (band + 1) / bands));
            }

            ArrayPool<float>.Shared.Return(columns);
        }

        return [new Tensor([n, filters, oh, ow], y)];
    }

    /// <summary>
    /// A stride-1 convolution through <see cref="DirectConv"/> with its weights already packed: each image (and group) padded once, then
    /// its filter blocks computed from it, whole images per core when there are enough of them, else
    /// the filter blocks of each image split across cores.
    /// </summary>
    private static void ConvDirect(
        FloatBuffer x, int channels, int height, int width, Window[] win, float[] packed, int filters, int perGroup, int group, int tasks, bool perTask,
        float[]? bias, Activation activation, FloatBuffer y, int oh, int ow)
    {
        var (kh, kw) = (win[0].Kernel, win[1].Kernel);
        var (ph, pw) = (height + win[0].PadBegin + win[0].PadEnd, width + win[1].PadBegin + win[1].PadEnd);
        var filtersPerGroup = filters / group;
        var blocks = filtersPerGroup / DirectConv.FilterBlock;
        var paddedLength = DirectConv.PaddedLength(perGroup, height, width, win);

        void Pad(int task, float[] padded)
        {
            var (b, g) = Math.DivRem(task, group);
            DirectConv.Pad(x.AsSpan(((b * channels) + (g * perGroup)) * height * width, perGroup * height * width), perGroup, height, width, win, padded);
        }

        void Blocks(int task, float[] padded, int block0, int block1)
        {
            var (b, g) = Math.DivRem(task, group);
            DirectConv.Run(
                padded, perGroup, ph, pw, kh, kw, packed, g * filtersPerGroup * perGroup * kh * kw, bias, g * filtersPerGroup, activation,
                y.Array, y.Offset + (((b * filters) + (g * filtersPerGroup)) * oh * ow), oh, ow, block0, block1);
        }

        if (perTask)
        {
            Workers.For(tasks, task =>
            {
                var padded = ArrayPool<float>.Shared.Rent(paddedLength);
                Pad(task, padded);
                Blocks(task, padded, 0, blocks);
                ArrayPool<float>.Shared.Return(padded);
            });
            return;
        }

        var work = (long)filtersPerGroup * perGroup * kh * kw * oh * ow;
        var split = work < GemmKernel.ParallelThreshold ? 1 : Math.Min(Workers.Count, blocks);
        var shared = ArrayPool<float>.Shared.Rent(paddedLength);
        for (var task = 0; task < tasks; task++)
        {
            Pad(task, shared);
            var current = task;
            Workers.For(split, part => Blocks(current, shared, blocks * part / split, blocks * (part + 1) / split));
        }

        ArrayPool<float>.Shared.Return(shared);
    }

    /// <summary>
    /// Unfolds every receptive field of output rows [<paramref name="oy0"/>, <paramref name="oy1"/>)
    /// into a column: rows are (channel, ky, kx), columns are output pixels, and only those rows' pixel
    /// columns are written. With a horizontal stride of 1 each output row is one copy of the input row
    /// it reads, between the zeros the padding leaves at either end.
    /// </summary>
    internal static void Im2Col(ReadOnlySpan<float> image, int channels, int height, int width, Window[] win, Span<float> columns, int oy0, int oy1)
    {
        var (oh, ow) = (win[0].Output, win[1].Output);
        var (sx, dx, px) = (win[1].Stride, win[1].Dilation, win[1].PadBegin);
        if (sx == 1 && win[0].Stride == 1 && ow == width)
        {
            ShiftedPlanes(image, channels, height, width, win, columns, oy0, oy1);
            return;
        }

        var row = 0;
        for (var ch = 0; ch < channels; ch++)
        {
            for (var ky = 0; ky < win[0].Kernel; ky++)
            {
                for (var kx = 0; kx < win[1].Kernel; kx++, row++)
                {
                    var target = columns.Slice(row * oh * ow, oh * ow);
                    var shift = (kx * dx) - px;

                    // Output columns whose input column lies inside the image: first ≤ ox < last.
                    var first = Math.Clamp(shift >= 0 ? 0 : (-shift + sx - 1) / sx, 0, ow);
                    var last = Math.Clamp(width - shift <= 0 ? 0 : ((width - shift - 1) / sx) + 1, first, ow);
                    for (var oy = oy0; oy < oy1; oy++)
                    {
                        var iy = (oy * win[0].Stride) - win[0].PadBegin + (ky * win[0].Dilation);
                        var line = target.Slice(oy * ow, ow);
                        if (iy < 0 || iy >= height)
                        {
                            line.Clear();
                            continue;
                        }

                        line[..first].Clear();
                        line[last..].Clear();
                        var source = image.Slice(((ch * height) + iy) * width, width);
                        if (sx == 1)
                        {
                            source.Slice(first + shift, last - first).CopyTo(line[first..last]);
                        }
                        else
                        {
                            for (var ox = first; ox < last; ox++)
                            {
                                line[ox] = source[(ox * sx) + shift];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Im2col for stride 1 where output rows are as wide as input rows (a "same" padded 3×3, say):
    /// each (channel, ky, kx) row of the columns is the input plane shifted by one offset, so it is one
    /// bulk copy, after which the few elements that wrapped around a row edge and the rows that fall in
    /// the vertical padding are zeroed. Small images otherwise spend more on per-row copies than on
    /// their products.
    /// </summary>
    private static void ShiftedPlanes(ReadOnlySpan<float> image, int channels, int height, int width, Window[] win, Span<float> columns, int oy0, int oy1)
    {
        var plane = win[0].Output * width;
        var (band0, band1) = (oy0 * width, oy1 * width);
        var row = 0;
        for (var ch = 0; ch < channels; ch++)
        {
            var source = image.Slice(ch * height * width, height * width);
            for (var ky = 0; ky < win[0].Kernel; ky++)
            {
                var dy = (ky * win[0].Dilation) - win[0].PadBegin;

                // Output rows of the band whose input row exists: first ≤ oy < last.
                var first = Math.Clamp(-dy, oy0, oy1);
                var last = Math.Clamp(height - dy, first, oy1);
                for (var kx = 0; kx < win[1].Kernel; kx++, row++)
                {
                    var dx = (kx * win[1].Dilation) - win[1].PadBegin;
                    var target = columns.Slice(row * plane, plane);
                    target[band0..(first * width)].Clear();
                    target[(last * width)..band1].Clear();
                    if (first == last)
                    {
                        continue;
                    }

                    // target[i] = source[i + shift] over the valid rows, clipped to the source plane.
                    var shift = (dy * width) + dx;
                    var start = Math.Max(first * width, -shift);
                    var end = Math.Min(last * width, (height * width) - shift);
                    target[(first * width)..start].Clear();
                    target[end..(last * width)].Clear();
                    source.Slice(start + shift, end - start).CopyTo(target[start..end]);

                    // Columns whose input column is off the row's edge read a neighbouring row: zero them
                    // (usually one element a row: plain stores, as a Clear call per row cost more than the copy).
                    var (left, right) = (Math.Clamp(-dx, 0, width), Math.Clamp(width - dx, 0, width));
                    ref var line = ref MemoryMarshal.GetReference(target);
                    for (var oy = first; oy < last; oy++)
                    {
                        ref var at = ref Unsafe.Add(ref line, oy * width);
                        for (var x = 0; x < left; x++)
                        {
                            Unsafe.Add(ref at, x) = 0f;
                        }

                        for (var x = right; x < width; x++)
                        {
                            Unsafe.Add(ref at, x) = 0f;
                        }
                    }
                }
            }
        }
    }

    private static Tensor[] ConvTranspose(OpContext c)
    {
        var (x, w) = (c.Input(0), c.Input(1));
        if (x.Rank != 4 || w.Rank != 4)
        {
            throw new ModelException($"only 2-D transposed convolutions are supported; got {x} and {w}.");
        }

        var group = (int)c.GetInt("group", 1);
        var (n, channels, height, width) = (x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]);
        var (kh, kw) = (w.Shape[2], w.Shape[3]);
        if (group < 1 || channels % group != 0 || w.Shape[0] != channels)
        {
            throw new ModelException($"weight {w} does not fit {channels} input channels in {group} group(s).");
        }

        var perGroupOut = w.Shape[1];
        var filters = perGroupOut * group;
        var strides = c.GetInts("strides") ?? [1, 1];
        var dilations = c.GetInts("dilations") ?? [1, 1];
        var outputPadding = c.GetInts("output_padding") ?? [0, 0];
        var pads = c.GetInts("pads") ?? [0, 0, 0, 0];
        int[] input = [height, width];
        int[] kernel = [kh, kw];
        var outSize = new int[2];
        var padBegin = new int[2];
        var requested = c.GetInts("output_shape");
        var autoPad = c.GetString("auto_pad", "NOTSET");
        for (var d = 0; d < 2; d++)
        {
            var natural = ((int)strides[d] * (input[d] - 1)) + (int)outputPadding[d] + (((kernel[d] - 1) * (int)dilations[d]) + 1);
            if (requested is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                outSize[d] = requested is not null ? (int)requested[^(2 - d)] : input[d] * (int)strides[d];
                var total = natural - outSize[d];
                padBegin[d] = autoPad == "SAME_UPPER" ? total / 2 : total - (total / 2);
            }
            else
            {
                padBegin[d] = (int)pads[d];
                outSize[d] = natural - (int)pads[d] - (int)pads[d + 2];
            }
        }

        Tensor.CheckedCount([n, filters, outSize[0], outSize[1]]);
        if (c.Gpu is { } gpu)
        {
            var biasTensor = c.Optional(2);
            return [gpu.Conv(x, w, biasTensor, new ConvArguments
            {
                Batch = n, Channels = channels, Height = height, Width = width, Filters = filters, Group = group,
                KernelHeight = kh, KernelWidth = kw, OutHeight = outSize[0], OutWidth = outSize[1],
                StrideY = (int)strides[0], StrideX = (int)strides[1], DilationY = (int)dilations[0], DilationX = (int)dilations[1],
                PadTop = padBegin[0], PadLeft = padBegin[1], HasBias = biasTensor is null ? 0 : 1,
            }, transposed: true)];
        }

        var bias = c.Optional(2)?.Data;
        var y = Buffers.Floats(Tensor.CheckedCount([n, filters, outSize[0], outSize[1]]));
        var data = x.Values;
        var inPerGroup = channels / group;
        for (var b = 0; b < n; b++)
        {
            for (var ic = 0; ic < channels; ic++)
            {
                var g = ic / inPerGroup;
                for (var iy = 0; iy < height; iy++)
                {
                    for (var ix = 0; ix < width; ix++)
                    {
                        var v = data[(((b * channels) + ic) * height * width) + (iy * width) + ix];
                        for (var oc = 0; oc < perGroupOut; oc++)
                        {
                            var f = (g * perGroupOut) + oc;
                            for (var ky = 0; ky < kh; ky++)
                            {
                                var oy = (iy * (int)strides[0]) - padBegin[0] + (ky * (int)dilations[0]);
                                if (oy < 0 || oy >= outSize[0])
                                {
                                    continue;
                                }

                                for (var kx = 0; kx < kw; kx++)
                                {
                                    var ox = (ix * (int)strides[1]) - padBegin[1] + (kx * (int)dilations[1]);
                                    if (ox >= 0 && ox < outSize[1])
                                    {
                                        y[(((b * filters) + f) * outSize[0] * outSize[1]) + (oy * outSize[1]) + ox] += v * w.Data[((((ic * perGroupOut) + oc) * kh) + ky) * kw + kx];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        if (bias is not null)
        {
            var plane = outSize[0] * outSize[1];
            for (var i = 0; i < y.Length; i++)
            {
                y[i] += bias[i / plane % filters];
            }
        }

        return [new Tensor([n, filters, outSize[0], outSize[1]], y)];
    }

    private static Tensor Pool(OpContext c, bool max)
    {
        var x = c.Input(0);
        if (x.Rank != 4)
        {
            throw new ModelException($"only 2-D pooling is supported (input [N, C, H, W]); got {x}.");
        }

        if (c.OutputCount > 1 && c.Node.Output[1].Length > 0)
        {
            throw new ModelException("MaxPool's Indices output is not supported.");
        }

        var kernel = c.GetInts("kernel_shape")?.Select(k => (int)k).ToArray() ?? throw new ModelException("kernel_shape is required.");
        var win = Windows(c, [x.Shape[2], x.Shape[3]], kernel, ceil: c.GetInt("ceil_mode", 0) == 1);
        var includePad = c.GetInt("count_include_pad", 0) == 1;
        var (planes, height, width) = (x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3]);
        var (oh, ow) = (win[0].Output, win[1].Output);
        if (c.Gpu is { } gpu)
        {
            Tensor.CheckedCount([planes, oh, ow]);
            return gpu.Pool(x, Arguments(x.Shape, win) with { Max = max ? 1 : 0, IncludePad = includePad ? 1 : 0 });
        }

        var y = Buffers.Floats(Tensor.CheckedCount([planes, oh, ow]));
        var data = x.Values;
        if (max && win.All(v => v is { Kernel: 2, Stride: 2, Dilation: 1, PadBegin: 0 }) && oh * 2 <= height && ow * 2 <= width)
        {
            // The common 2×2 / 2 max pool, every window inside the image: vectorised, planes split across cores.
            Chunks.For(y.Length, oh * ow, (start, count) =>
            {
                for (var p = start / (oh * ow); p < (start + count) / (oh * ow); p++)
                {
                    MaxPool2x2(data.AsSpan(p * height * width, height * width), width, y.AsSpan(p * oh * ow, oh * ow), ow);
                }
            });
            return new Tensor([x.Shape[0], x.Shape[1], oh, ow], y);
        }

        var (rows, columns) = (Reach(win[0], height), Reach(win[1], width));
        void Plane(int p)
        {
            var source = data.AsSpan(p * height * width, height * width);
            var target = y.AsSpan(p * oh * ow, oh * ow);
            for (var oy = 0; oy < oh; oy++)
            {
                var (ky0, ky1, kyPadded) = rows[oy];
                var iy0 = (oy * win[0].Stride) - win[0].PadBegin;
                for (var ox = 0; ox < ow; ox++)
                {
                    var (kx0, kx1, kxPadded) = columns[ox];
                    var ix0 = (ox * win[1].Stride) - win[1].PadBegin;
                    var best = float.NegativeInfinity;
                    var sum = 0f;
                    for (var ky = ky0; ky < ky1; ky++)
                    {
                        var line = ((iy0 + (ky * win[0].Dilation)) * width) + ix0;
                        for (var kx = kx0; kx < kx1; kx++)
                        {
                            var v = source[line + (kx * win[1].Dilation)];
                            best = Math.Max(best, v);
                            sum += v;
                        }
                    }

                    var divisor = includePad ? kyPadded * kxPadded : (ky1 - ky0) * (kx1 - kx0);
                    target[(oy * ow) + ox] = max ? best : sum / Math.Max(1, divisor);
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
        if (x.Rank < 3)
        {
            throw new ModelException($"GlobalAveragePool needs [N, C, spatial…]; got {x}.");
        }

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

    private static Tensor[] InstanceNormalization(OpContext c)
    {
        var x = c.Input(0);
        var (scale, bias) = (c.Input(1).Data, c.Input(2).Data);
        var epsilon = c.GetFloat("epsilon", 1e-5f);
        if (x.Rank < 3 || scale.Length != x.Shape[1] || bias.Length != x.Shape[1])
        {
            throw new ModelException($"InstanceNormalization needs [N, C, spatial…] and C scales and biases; got {x}.");
        }

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
