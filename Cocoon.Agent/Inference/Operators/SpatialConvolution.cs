using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Gpu;
using Cocoon.Agent.Inference.Graph;
using Cocoon.Agent.Inference.Memory;

namespace Cocoon.Agent.Inference.Operators;

/// <summary>
/// Conv (groups, strides, pads, dilations, auto_pad; with a bias, an activation and a 2×2 max pool
/// folded in at load) directly from a padded image (<see cref="DirectConv"/>) or as im2col plus matrix
/// products, and ConvTranspose.
/// </summary>
internal static partial class Spatial
{
    private static Tensor[] Conv(OpContext c)
    {
        // The declaration's shape rule checked ranks, channels, groups, the bias and the window before the kernel (NodeGuard).
        var (x, w) = (c.Input(0), c.Input(1));
        if (x.Rank == 5)
        {
            return ConvVolume(c);
        }

        var group = (int)c.GetInt("group", 1);
        var (n, channels, height, width) = (x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]);
        var (filters, perGroup, kh, kw) = (w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]);

        // The window is the weight's own: the declaration refused a kernel_shape that says otherwise.
        var win = Windows(c, [height, width], [kh, kw]);
        var (oh, ow) = (win[0].Output, win[1].Output);
        var biasTensor = c.Optional(2);

        // A 2×2 / 2 max pool folded in at load (GraphFusion.Pool): the output is the pooled one.
        var pool = GraphFusion.Pooled(c.Node);
        int[] shape = pool ? [n, filters, oh / 2, ow / 2] : [n, filters, oh, ow];
        if (c.Gpu is { } gpu)
        {
            var convolved = c.Activate(gpu, gpu.Conv(x, w, biasTensor, Arguments(x.Shape, win) with { Filters = filters, Group = group, HasBias = biasTensor is null ? 0 : 1 }, transposed: false));
            Window[] pooling = [new(2, 2, 1, 0, 0, shape[2]), new(2, 2, 1, 0, 0, shape[3])];
            return [pool ? gpu.Pool(convolved, Arguments(convolved.Shape, pooling) with { Max = 1 }) : convolved];
        }

        var bias = biasTensor?.Data;
        var filtersPerGroup = filters / group;
        var patch = perGroup * kh * kw;
        var pixels = oh * ow;
        var columnCount = Tensor.CheckedCount([patch, oh, ow]);
        var output = Buffers.Overwritten(Tensor.CheckedCount(shape));
        var (xData, wData) = (x.Values, w.Data);
        var activation = c.FusedActivation;

        // One filter per channel (depthwise): a kernel of its own, tap by tap, not a product per channel.
        if (!pool && group == channels && perGroup == 1 && filtersPerGroup == 1 && DepthwiseConv.Fits(height, width, win))
        {
            DepthwiseConv.Run(xData, n, channels, height, width, wData, bias, win, activation, output);
            return [new Tensor(shape, output)];
        }

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

        // Beside the 512-bit GEMM the direct kernel pays only for shallow patches (a 3×3 over 35 channels
        // or fewer): VGG-19's deep 3×3 layers (576 and up) ran 10-20 % faster unfolded and multiplied,
        // while the reference CNN's 144- and 288-deep layers on small images ran at half speed that way.
        if (!direct && (!GemmKernel.Wide || patch <= DirectConv.MaxPatchBesideWideGemm) && DirectConv.Fits(filtersPerGroup, oh, ow, win, activation))
        {
            var packed = c.PackedWeight(w, "direct conv", w.Length, () => DirectConv.Pack(wData, filters, perGroup, kh * kw))
                ?? DirectConv.Pack(wData, filters, perGroup, kh * kw);
            ConvDirect(xData, channels, height, width, win, packed, filters, perGroup, group, tasks, perTask, bias, activation, output, shape, pool);
            return [new Tensor(shape, output)];
        }

        // Otherwise the whole convolution first, pooled after when a pool was folded in.
        var y = pool ? Buffers.Overwritten(Tensor.CheckedCount([n, filters, oh, ow])) : output;

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
                var columns = direct ? [] : Scratch.Rent(columnCount);
                try
                {
                    Band(task, columns, 0, oh);
                }
                finally
                {
                    Scratch.Return(columns);
                }
            });
        }
        else
        {
            var columns = direct ? [] : Scratch.Rent(columnCount);
            try
            {
                for (var task = 0; task < tasks; task++)
                {
                    Workers.For(bands, band => Band(task, columns, oh * band / bands, oh * (band + 1) / bands));
                }
            }
            finally
            {
                Scratch.Return(columns);
            }
        }

        if (pool)
        {
            MaxPool2x2(y, oh, ow, output, shape[2], shape[3]);
        }

        return [new Tensor(shape, output)];
    }

    /// <summary>
    /// A stride-1 convolution through <see cref="DirectConv"/> with its weights already packed: each image (and group) padded once, then
    /// its filter blocks computed from it, whole images per core when there are enough of them, else
    /// the filter blocks of each image split across cores; pooled as it is stored when <paramref name="pool"/>.
    /// </summary>
    private static void ConvDirect(
        FloatBuffer x, int channels, int height, int width, Window[] win, float[] packed, int filters, int perGroup, int group, int tasks, bool perTask,
        float[]? bias, Activation activation, FloatBuffer y, int[] shape, bool pool)
    {
        // The convolution's own size; the output's planes are pooled ones when a pool is folded in.
        var (oh, ow, outputPlane) = (win[0].Output, win[1].Output, shape[2] * shape[3]);
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
                y.Array, y.Offset + (((b * filters) + (g * filtersPerGroup)) * outputPlane), oh, ow, block0, block1, pool);
        }

        if (perTask)
        {
            Workers.For(tasks, task =>
            {
                var padded = Scratch.Rent(paddedLength);
                try
                {
                    Pad(task, padded);
                    Blocks(task, padded, 0, blocks);
                }
                finally
                {
                    Scratch.Return(padded);
                }
            });
            return;
        }

        var work = (long)filtersPerGroup * perGroup * kh * kw * oh * ow;
        var split = work < GemmKernel.ParallelThreshold ? 1 : Math.Min(Workers.Count, blocks);
        var shared = Scratch.Rent(paddedLength);
        try
        {
            for (var task = 0; task < tasks; task++)
            {
                Pad(task, shared);
                var current = task;
                Workers.For(split, part => Blocks(current, shared, blocks * part / split, blocks * (part + 1) / split));
            }
        }
        finally
        {
            Scratch.Return(shared);
        }
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
                        if (last == first)
                        {
                            // Every output column of this tap reads padding (a window wider than the padded input's start).
                            continue;
                        }

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
                    // Clamped to the valid rows: a kernel wider than the padded row shifts past them entirely.
                    var start = Math.Clamp(-shift, first * width, last * width);
                    var end = Math.Clamp((height * width) - shift, start, last * width);
                    target[(first * width)..start].Clear();
                    target[end..(last * width)].Clear();
                    if (end > start)
                    {
                        source.Slice(start + shift, end - start).CopyTo(target[start..end]);
                    }

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
        // The declaration's shape rule checked ranks, channels, groups and the bias before the kernel (NodeGuard).
        var (x, w) = (c.Input(0), c.Input(1));
        if (x.Rank == 5)
        {
            return ConvVolume(c);
        }

        var group = (int)c.GetInt("group", 1);
        var (n, channels, height, width) = (x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]);
        var (kh, kw) = (w.Shape[2], w.Shape[3]);

        var perGroupOut = w.Shape[1];
        var filters = perGroupOut * group;
        var (strides, dilations) = (c.GetInts("strides") ?? [1, 1], c.GetInts("dilations") ?? [1, 1]);
        var (outSize, padBegin) = TransposedWindows(c, [height, width], [kh, kw]);
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

        // As a product, then scattered (col2im), never a zero-stuffed image: for each image and group,
        // columns = Wᵀ · X ([outputs per group · kh · kw] × pixels) through the GEMM, then every row of
        // columns (one output channel and tap) is added where that tap lands in its output plane.
        var bias = c.Optional(2)?.Data;
        var (oh, ow) = (outSize[0], outSize[1]);
        var y = Buffers.Floats(Tensor.CheckedCount([n, filters, oh, ow]));
        var data = x.Values;
        var inPerGroup = channels / group;
        var (rows, pixels) = (perGroupOut * kh * kw, height * width);
        var weights = w.Data;
        var transposed = c.PackedWeight(w, $"convtranspose columns, {group} group(s)", w.Length, () => TransposedPerGroup(weights, group, inPerGroup, rows))
            ?? TransposedPerGroup(weights, group, inPerGroup, rows);
        var columns = Scratch.Rent(Tensor.CheckedCount([rows, height, width]));
        try
        {
            for (var b = 0; b < n; b++)
            {
                for (var g = 0; g < group; g++)
                {
                    GemmKernel.Multiply(transposed, g * rows * inPerGroup, data.Array, data.Offset + (((b * channels) + (g * inPerGroup)) * pixels), columns, 0, rows, inPerGroup, pixels);
                    var outputAt = ((b * filters) + (g * perGroupOut)) * oh * ow;
                    Chunks.For(perGroupOut * oh * ow, oh * ow, (start, count) =>
                    {
                        for (var oc = start / (oh * ow); oc < (start + count) / (oh * ow); oc++)
                        {
                            var plane = y.Span.Slice(outputAt + (oc * oh * ow), oh * ow);
                            if (bias is not null)
                            {
                                plane.Fill(bias[(g * perGroupOut) + oc]);
                            }

                            for (var ky = 0; ky < kh; ky++)
                            {
                                for (var kx = 0; kx < kw; kx++)
                                {
                                    var row = columns.AsSpan((((oc * kh) + ky) * kw + kx) * pixels, pixels);
                                    Scatter(row, height, width, ky, kx, (int)strides[0], (int)strides[1], (int)dilations[0], (int)dilations[1], padBegin[0], padBegin[1], plane, oh, ow);
                                }
                            }
                        }
                    });
                }
            }
        }
        finally
        {
            Scratch.Return(columns);
        }

        return [new Tensor([n, filters, outSize[0], outSize[1]], y)];
    }

    /// <summary>The weights [C, F/g, kh, kw] as each group's [F/g · kh · kw] × [C/g] matrix, one after another (Wᵀ per group).</summary>
    private static float[] TransposedPerGroup(float[] weights, int group, int inPerGroup, int rows)
    {
        var result = new float[weights.Length];
        for (var g = 0; g < group; g++)
        {
            var at = g * rows * inPerGroup;
            for (var ic = 0; ic < inPerGroup; ic++)
            {
                for (var r = 0; r < rows; r++)
                {
                    result[at + (r * inPerGroup) + ic] = weights[at + (ic * rows) + r];
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Adds one output channel's tap (ky, kx) of the columns into its output plane: input pixel (iy, ix)
    /// lands on (iy · stride − pad + ky · dilation, likewise x); at stride 1 each input row is one span.
    /// </summary>
    private static void Scatter(ReadOnlySpan<float> row, int height, int width, int ky, int kx, int sy, int sx, int dy, int dx, int padY, int padX, Span<float> plane, int oh, int ow)
    {
        // The input columns whose output column lies inside the plane.
        var offset = (kx * dx) - padX;
        var first = offset >= 0 ? 0 : (-offset + sx - 1) / sx;
        var last = Math.Min(width, ow - 1 - offset < 0 ? 0 : ((ow - 1 - offset) / sx) + 1);
        if (last <= first)
        {
            return;
        }

        for (var iy = 0; iy < height; iy++)
        {
            var oy = (iy * sy) - padY + (ky * dy);
            if (oy < 0 || oy >= oh)
            {
                continue;
            }

            var source = row.Slice(iy * width, width);
            var target = plane.Slice(oy * ow, ow);
            if (sx == 1)
            {
                var span = target.Slice(first + offset, last - first);
                System.Numerics.Tensors.TensorPrimitives.Add(span, source[first..last], span);
                continue;
            }

            for (var ix = first; ix < last; ix++)
            {
                target[(ix * sx) + offset] += source[ix];
            }
        }
    }
}
