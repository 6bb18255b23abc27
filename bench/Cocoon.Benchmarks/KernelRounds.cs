using System.Globalization;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Operators;

namespace Cocoon.Benchmarks;

/// <summary>
/// The CPU kernels timed in alternating rounds, keeping each one's fastest round: on a shared machine
/// whose slow phases move a median by half, the fastest of several rounds is what a kernel costs
/// (`kernels` prints medians). The direct convolution in each tiling this machine can run, one thread
/// and all threads over 32 images; the GEMM on one core and all, B packed or not; the tiled transposes.
/// </summary>
public static class KernelRounds
{
    public static int Run(int rounds)
    {
        var c = CultureInfo.InvariantCulture;
        var budget = TimeSpan.FromSeconds(0.2);
        Console.WriteLine(string.Create(c, $"{Environment.ProcessorCount} threads, fastest of {rounds} rounds of 0.2 s medians"));
        Console.WriteLine();
        Console.WriteLine("| direct convolution, 32 images, 3×3 pad 1 + bias + Relu | tiling | one thread GFLOP/s | all threads GFLOP/s |");
        Console.WriteLine("|---|---|---:|---:|");
        foreach (var (channels, filters, side) in new[] { (3, 16, 32), (16, 32, 16), (32, 64, 8) })
        {
            const int Images = 32;
            var random = new Random(side);
            var images = ReferenceModels.Values(random, Images * channels * side * side, 1f);
            var packed = DirectConv.Pack(ReferenceModels.Values(random, filters * channels * 9, 1f), filters, channels, 9);
            var bias = ReferenceModels.Values(random, filters, 1f);
            Window[] win = [new(3, 1, 1, 1, 1, side), new(3, 1, 1, 1, 1, side)];
            var y = new float[Images * filters * side * side];
            var length = DirectConv.PaddedLength(channels, side, side, win);
            var flops = 2.0 * Images * filters * side * side * channels * 9;
            foreach (var tiling in Tilings(side, side))
            {
                void Image(int i)
                {
                    var padded = System.Buffers.ArrayPool<float>.Shared.Rent(length);
                    DirectConv.Pad(images.AsSpan(i * channels * side * side, channels * side * side), channels, side, side, win, padded);
                    DirectConv.Run(tiling, padded, channels, side + 2, side + 2, 3, 3, packed, 0, bias, 0, Activation.Relu, y, i * filters * side * side, side, side, 0, filters / DirectConv.FilterBlock);
                    System.Buffers.ArrayPool<float>.Shared.Return(padded);
                }

                var (one, all) = Fastest(rounds, budget, () =>
                {
                    for (var i = 0; i < Images; i++)
                    {
                        Image(i);
                    }
                }, () => Workers.For(Images, Image));
                Console.WriteLine(string.Create(c, $"| [{channels}, {side}, {side}] → {filters} | {tiling} | {flops / one / 1e9:N1} | {flops / all / 1e9:N1} |"));
            }
        }

        Console.WriteLine();
        Console.WriteLine("| GEMM m×k×n | one core GFLOP/s | one core, B packed | all cores, B packed |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (m, k, n) in new[] { (2048, 256, 256), (2048, 256, 1024), (2048, 1024, 256), (64, 256, 256), (32, 512, 512) })
        {
            var random = new Random(1);
            var a = ReferenceModels.Values(random, m * k, 1f);
            var b = ReferenceModels.Values(random, k * n, 1f);
            var packed = GemmKernel.Prepack(b, k, n);
            var y = new float[m * n];
            var (plain, _) = Fastest(rounds, budget, () => GemmKernel.Multiply(a, 0, b, 0, y, 0, m, k, n, parallel: false), () => { });
            var (one, all) = Fastest(
                rounds,
                budget,
                () => GemmKernel.Multiply(a, 0, b, 0, y, 0, m, k, n, parallel: false, packedB: packed),
                () => GemmKernel.Multiply(a, 0, b, 0, y, 0, m, k, n, packedB: packed));
            var flops = 2.0 * m * k * n;
            Console.WriteLine(string.Create(c, $"| {m}×{k}×{n} | {flops / plain / 1e9:N1} | {flops / one / 1e9:N1} | {flops / all / 1e9:N1} |"));
        }

        Console.WriteLine();
        Console.WriteLine("| transpose (a new output each time) | ns per element |");
        Console.WriteLine("|---|---:|");
        foreach (var (shape, perm) in new[] { (new[] { 32, 64, 4, 64 }, new[] { 0, 2, 1, 3 }), (new[] { 32, 64, 4, 64 }, new[] { 0, 2, 3, 1 }), (new[] { 512, 1024 }, new[] { 1, 0 }) })
        {
            var x = new Tensor(shape, ReferenceModels.Values(new Random(1), (int)Tensor.ElementCount(shape), 1f));
            var (time, _) = Fastest(rounds, budget, () => Shapes.Transpose(null, x, perm), () => { });
            Console.WriteLine(string.Create(c, $"| [{string.Join(", ", shape)}] perm ({string.Join(", ", perm)}) | {time * 1e9 / x.Length:N2} |"));
        }

        return 0;
    }

    private static IEnumerable<DirectConv.Tiling> Tilings(int oh, int ow)
    {
        if (DirectConv.Choose(oh, ow) == DirectConv.Tiling.Wide512)
        {
            yield return DirectConv.Tiling.Wide512;
        }

        yield return DirectConv.Tiling.Eight256;
        yield return DirectConv.Tiling.Halves256;
    }

    /// <summary>The fastest round's median seconds of each of two runs, taking turns.</summary>
    private static (double First, double Second) Fastest(int rounds, TimeSpan budget, Action first, Action second)
    {
        var (a, b) = (double.MaxValue, double.MaxValue);
        for (var round = 0; round < rounds; round++)
        {
            a = Math.Min(a, KernelHarness.Median(first, budget));
            b = Math.Min(b, KernelHarness.Median(second, budget));
        }

        return (a, b);
    }
}
