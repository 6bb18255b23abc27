using System.Globalization;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Cpu;
using Cocoon.Agent.Inference.Graph;
using Cocoon.Agent.Inference.Memory;
using Cocoon.Agent.Inference.Operators;

namespace Cocoon.Benchmarks;

/// <summary>
/// The CPU kernels one at a time, at the shapes the reference models give them: GEMM on one core and
/// on all of them, the GELU pass and max pooling. Median time of repeated calls; a table for
/// docs/BENCHMARKS.md.
/// </summary>
public static class KernelHarness
{
    private static readonly (string Use, int M, int K, int N)[] Products =
    [
        ("MLP batch 1", 1, 256, 512),
        ("MLP batch 1", 1, 512, 512),
        ("MLP batch 32", 32, 256, 512),
        ("MLP batch 32", 32, 512, 512),
        ("MLP batch 32", 32, 512, 10),
        ("attention head", 64, 64, 64),
        ("transformer batch 1", 64, 256, 256),
        ("transformer batch 1", 64, 256, 1024),
        ("transformer batch 1", 64, 1024, 256),
        ("transformer batch 32", 2048, 256, 256),
        ("transformer batch 32", 2048, 256, 1024),
        ("transformer batch 32", 2048, 1024, 256),
        ("CNN conv 1 (per image)", 16, 27, 1024),
        ("CNN conv 2 (per image)", 32, 144, 256),
        ("CNN conv 3 (per image)", 64, 288, 64),
    ];

    public static int Run(double seconds)
    {
        var c = CultureInfo.InvariantCulture;
        var budget = TimeSpan.FromSeconds(seconds);
        Console.WriteLine(string.Create(c, $"{Environment.ProcessorCount} threads, {seconds:N1} s per measurement, median"));
        Console.WriteLine("| product | m×k×n | 1 core µs | 1 core GFLOP/s | all cores µs | all cores GFLOP/s |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        foreach (var (use, m, k, n) in Products)
        {
            var random = new Random(m + k + n);
            var a = ReferenceModels.Values(random, m * k, 1f);
            var b = ReferenceModels.Values(random, k * n, 1f);
            var result = new float[m * n];
            var one = Median(() => GemmKernel.Multiply(a, 0, b, 0, result, 0, m, k, n, parallel: false), budget);
            var all = Median(() => GemmKernel.Multiply(a, 0, b, 0, result, 0, m, k, n), budget);
            var flops = 2.0 * m * k * n;
            Console.WriteLine(string.Create(c, $"| {use} | {m}×{k}×{n} | {one * 1e6:N1} | {flops / one / 1e9:N1} | {all * 1e6:N1} | {flops / all / 1e9:N1} |"));
        }

        {
            // The MLP's three layers at batch 1 back to back (their 1.5 MB of weights do not all fit one core's L2).
            var random = new Random(1);
            var (w1, w2, w3) = (ReferenceModels.Values(random, 256 * 512, 1f), ReferenceModels.Values(random, 512 * 512, 1f), ReferenceModels.Values(random, 512 * 10, 1f));
            var (x, h1, h2, y) = (ReferenceModels.Values(random, 256, 1f), new float[512], new float[512], new float[10]);
            var chain = Median(() =>
            {
                GemmKernel.Multiply(x, 0, w1, 0, h1, 0, 1, 256, 512);
                GemmKernel.Multiply(h1, 0, w2, 0, h2, 0, 1, 512, 512);
                GemmKernel.Multiply(h2, 0, w3, 0, y, 0, 1, 512, 10);
            }, budget);
            var mlp = ReferenceModels.Mlp();
            var model = OnnxModel.Load(mlp.Onnx);
            var feeds = new Dictionary<string, Tensor> { ["x"] = new([1, 256], x) };
            var whole = Median(() => model.Run(feeds), budget);
            var tiny = OnnxModel.Load(new OnnxGraphBuilder(17).Input("x", 1, 8).AnyOutput("y")
                .Node("Relu", ["x"], "a").Node("Relu", ["a"], "b").Node("Relu", ["b"], "d").Node("Softmax", ["d"], "y").Build());
            var tinyFeeds = new Dictionary<string, Tensor> { ["x"] = new([1, 8], new float[8]) };
            var overhead = Median(() => tiny.Run(tinyFeeds), budget);
            Console.WriteLine(string.Create(c, $"| a run of four nodes on 8 floats (the engine's own cost per run) | | | | {overhead * 1e6:N1} | |"));
            Console.WriteLine(string.Create(c, $"| MLP batch 1: the three products alone | 1×256×512, 1×512×512, 1×512×10 | | | {chain * 1e6:N1} | whole model {whole * 1e6:N1} µs |"));
        }

        Console.WriteLine();
        Console.WriteLine("| pass | elements | µs | ns per element |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var length in new[] { 64 * 1024, 32 * 64 * 1024 })
        {
            var x = ReferenceModels.Values(new Random(length), length, 3f);
            var y = new float[length];
            var gelu = Median(() => VectorMath.Gelu(x, y), budget);
            Console.WriteLine(string.Create(c, $"| GELU (one core) | {length} | {gelu * 1e6:N1} | {gelu * 1e9 / length:N2} |"));
        }

        foreach (var (batch, channels, side) in new[] { (1, 16, 32), (32, 16, 32), (32, 32, 16) })
        {
            var model = PoolModel(channels, side);
            var shape = new[] { batch, channels, side, side };
            var feeds = new Dictionary<string, Tensor> { ["x"] = new(shape, ReferenceModels.Values(new Random(batch), (int)Tensor.ElementCount(shape), 1f)) };
            var pool = Median(() => model.Run(feeds), budget);
            Console.WriteLine(string.Create(c, $"| MaxPool 2×2 / 2 on [{batch}, {channels}, {side}, {side}] | {Tensor.ElementCount(shape)} | {pool * 1e6:N1} | {pool * 1e9 / Tensor.ElementCount(shape):N2} |"));
        }

        foreach (var (channels, filters, side) in new[] { (3, 16, 32), (16, 32, 16), (32, 64, 8) })
        {
            var image = ReferenceModels.Values(new Random(side), channels * side * side, 1f);
            var cols = new float[channels * 9 * side * side];
            Window[] win = [new(3, 1, 1, 1, 1, side), new(3, 1, 1, 1, 1, side)];
            var unfold = Median(() => Spatial.Im2Col(image, channels, side, side, win, cols, 0, side), budget);
            Console.WriteLine(string.Create(c, $"| im2col 3×3 pad 1 of [{channels}, {side}, {side}] | {cols.Length} | {unfold * 1e6:N1} | {unfold * 1e9 / cols.Length:N2} |"));
        }

        foreach (var (channels, filters, side) in new[] { (3, 16, 32), (16, 32, 16), (32, 64, 8) })
        {
            // The direct kernel on one core: padding the image, then every filter block.
            var random = new Random(side);
            var image = ReferenceModels.Values(random, channels * side * side, 1f);
            var packed = DirectConv.Pack(ReferenceModels.Values(random, filters * channels * 9, 1f), filters, channels, 9);
            var bias = ReferenceModels.Values(random, filters, 1f);
            Window[] win = [new(3, 1, 1, 1, 1, side), new(3, 1, 1, 1, 1, side)];
            var padded = new float[DirectConv.PaddedLength(channels, side, side, win)];
            var y = new float[filters * side * side];
            var direct = Median(
                () =>
                {
                    DirectConv.Pad(image, channels, side, side, win, padded);
                    DirectConv.Run(padded, channels, side + 2, side + 2, 3, 3, packed, 0, bias, 0, Activation.Relu, y, 0, side, side, 0, filters / DirectConv.FilterBlock);
                },
                budget);
            var flops = 2.0 * filters * side * side * channels * 9;
            Console.WriteLine(string.Create(c, $"| direct Conv 3×3 pad 1 + bias + Relu, one image [{channels}, {side}, {side}] → {filters}, one core | {image.Length} | {direct * 1e6:N1} | {flops / direct / 1e9:N1} GFLOP/s |"));
        }

        foreach (var (channels, filters, side) in new[] { (3, 16, 32), (16, 32, 16), (32, 64, 8) })
        {
            var model = ConvModel(channels, filters, side);
            foreach (var batch in new[] { 1, 32 })
            {
                var shape = new[] { batch, channels, side, side };
                var feeds = new Dictionary<string, Tensor> { ["x"] = new(shape, ReferenceModels.Values(new Random(batch), (int)Tensor.ElementCount(shape), 1f)) };
                var conv = Median(() => model.Run(feeds), budget);
                var flops = 2.0 * batch * filters * side * side * channels * 9;
                Console.WriteLine(string.Create(c, $"| Conv 3×3 pad 1 + bias + Relu, [{batch}, {channels}, {side}, {side}] → {filters} | {Tensor.ElementCount(shape)} | {conv * 1e6:N1} | {flops / conv / 1e9:N1} GFLOP/s |"));
            }
        }

        return 0;
    }

    /// <summary>A reference model run in a loop for a profiler: `-- loop cnn 1`.</summary>
    public static int Loop(string name, int batch)
    {
        var reference = ReferenceModels.All.Single(r => r.Name == name);
        var model = OnnxModel.Load(reference.Onnx);
        var shape = reference.InputShape(batch);
        var feeds = new Dictionary<string, Tensor> { [reference.Input] = new(shape, ReferenceModels.Values(new Random(1), (int)Tensor.ElementCount(shape), 1f)) };
        var until = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < until)
        {
            model.Run(feeds);
        }

        return 0;
    }

    private static OnnxModel ConvModel(int channels, int filters, int side)
    {
        var random = new Random(channels);
        return OnnxModel.Load(new OnnxGraphBuilder(17).Input("x", "batch", channels, side, side).AnyOutput("y")
            .Initializer("w", [filters, channels, 3, 3], ReferenceModels.Values(random, filters * channels * 9, 0.3f))
            .Initializer("b", [filters], ReferenceModels.Values(random, filters, 0.1f))
            .Node("Conv", ["x", "w", "b"], "c", ("pads", new long[] { 1, 1, 1, 1 })).Node("Relu", ["c"], "y").Build());
    }

    private static OnnxModel PoolModel(int channels, int side) => OnnxModel.Load(new OnnxGraphBuilder(17).Input("x", "batch", channels, side, side).AnyOutput("y")
        .Node("MaxPool", ["x"], "y", ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 })).Build());

    /// <summary>Median seconds of one call, over at least 5 calls and <paramref name="budget"/> of time, after a warm-up call.</summary>
    /// <summary>The median seconds of <paramref name="run"/> over <paramref name="budget"/>, after one warm-up run.</summary>
    internal static double Median(Action run, TimeSpan budget)
    {
        run();
        return new ModelTiming(ModelTiming.Times(run, 5, budget, 100_000), 0, 0, 0, MemoryReport.Unplanned).Median / 1e3;
    }
}
