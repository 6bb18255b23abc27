using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Gpu;
using Cocoon.Agent.Inference.Graph;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = Cocoon.Agent.Inference.Tensor;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// Runs a model in ONNX Runtime (the test-only reference; the agent does not ship it) and in our
/// engine on the same inputs, twice: on the CPU kernels and on the ILGPU kernels (ILGPU's CPU
/// accelerator, so CI checks the GPU code without a GPU). Every output is compared: shapes exactly,
/// int64 and bool exactly, float32 within a relative L2 error of 1e-4.
/// </summary>
internal static class OrtReference
{
    public const double Tolerance = 1e-4;

    private static readonly Lazy<GpuDevice> KernelChecker = new(() => InferenceDevice.Open("ilgpu-cpu").Gpu!);

    /// <summary>ILGPU's CPU accelerator, shared by the tests (opening one and compiling kernels takes a moment).</summary>
    public static GpuDevice IlgpuCpu => KernelChecker.Value;

    /// <param name="int32Feeds">Feeds the model declares int32 (the engine holds them as int64; ONNX Runtime is given int32).</param>
    public static void AssertSame(byte[] model, IReadOnlyDictionary<string, Tensor> feeds, params string[] int32Feeds)
    {
        var loaded = OnnxModel.Load(model);
        var cpu = RunCheckingInferredShapes(loaded, feeds);
        var planned = RunPlanned(loaded, feeds, cpu);
        var gpu = loaded.Run(feeds, IlgpuCpu, out _, out _);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(model, options);
        using var results = session.Run([.. feeds.Select(f => int32Feeds.Contains(f.Key)
            ? NamedOnnxValue.CreateFromTensor(f.Key, new DenseTensor<int>(f.Value.Longs.Select(v => (int)v).ToArray(), f.Value.Shape))
            : ToOrt(f.Key, f.Value))]);
        foreach (var result in results)
        {
            Compare(result, cpu[result.Name], "CPU kernels");
            Compare(result, planned[result.Name], "CPU kernels, planned memory");
            Compare(result, gpu[result.Name], "ILGPU kernels");
        }
    }

    /// <summary>
    /// Runs <paramref name="model"/> on the CPU kernels, checking every value it produces against the
    /// shape inferred at load: equal where a size was inferred, one size per symbol.
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> RunCheckingInferredShapes(OnnxModel model, IReadOnlyDictionary<string, Tensor> feeds)
    {
        var bound = new Dictionary<long, int>();
        var misfits = new List<string>();
        foreach (var (name, value) in feeds)
        {
            ShapeInference.Fits(model.InferredShapes.ShapeOf(name), value.Shape, bound);
        }

        model.Observe = (name, value) =>
        {
            if (!ShapeInference.Fits(model.InferredShapes.ShapeOf(name), value.Shape, bound))
            {
                misfits.Add($"{name}: inferred {model.InferredShape(name)}, ran as [{string.Join(", ", value.Shape)}]");
            }
        };
        try
        {
            var outputs = model.Run(feeds);
            Assert.True(misfits.Count == 0, string.Join("; ", misfits));
            return outputs;
        }
        finally
        {
            model.Observe = null;
        }
    }

    /// <summary>
    /// Runs <paramref name="model"/> again, now from the memory plan its first run traced, with the
    /// arena filled with NaN first (so a kernel that leaves an element unwritten shows): the run must
    /// follow its plan (no misses, no value copied out of the arena) and give exactly the first run's outputs.
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> RunPlanned(OnnxModel model, IReadOnlyDictionary<string, Tensor> feeds, IReadOnlyDictionary<string, Tensor> first)
    {
        model.FillActivations(float.NaN);
        var planned = RunCheckingInferredShapes(model, feeds);
        var memory = model.LastRunMemory;
        Assert.True(memory is { Planned: true, Misses: 0, Copies: 0 }, $"The planned run did not follow its plan: {memory}");
        foreach (var (name, value) in first)
        {
            Assert.Equal(value.Shape, planned[name].Shape);
            Assert.False(planned[name].InArena, $"Output {name} was left in the arena.");
            switch (value.Type)
            {
                case ElementType.Float32:
                    Assert.True(value.Data.AsSpan().SequenceEqual(planned[name].Data), $"Output {name} differs between the traced and the planned run.");
                    break;
                case ElementType.Int64:
                    Assert.Equal(value.Longs, planned[name].Longs);
                    break;
                default:
                    Assert.Equal(value.Bools, planned[name].Bools);
                    break;
            }
        }

        return planned;
    }

    private static void Compare(NamedOnnxValue result, Tensor mine, string engine)
    {
        {
            switch (result.Value)
            {
                case DenseTensor<float> expected:
                    Assert.Equal(Dims(expected), mine.Shape);
                    AssertClose(expected.ToArray(), mine.Data, $"{result.Name} ({engine})");
                    break;
                case DenseTensor<long> expected:
                    Assert.Equal(Dims(expected), mine.Shape);
                    Assert.Equal(expected.ToArray(), mine.Longs);
                    break;
                case DenseTensor<bool> expected:
                    Assert.Equal(Dims(expected), mine.Shape);
                    Assert.Equal(expected.ToArray(), mine.Bools);
                    break;
                default:
                    Assert.Fail($"ONNX Runtime gave output '{result.Name}' of a type the test does not compare: {result.Value?.GetType().Name}.");
                    break;
            }
        }
    }

    public static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double error = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(expected[i]) || float.IsInfinity(expected[i]))
            {
                Assert.True(expected[i].Equals(actual[i]), $"{what}[{i}]: {actual[i]}, expected {expected[i]}");
                continue;
            }

            error += Math.Pow(expected[i] - actual[i], 2);
            norm += Math.Pow(expected[i], 2);
        }

        var relative = Math.Sqrt(error) / Math.Max(Math.Sqrt(norm), 1e-12);
        Assert.True(relative <= Tolerance || Math.Sqrt(error) <= 1e-6, $"{what}: relative L2 error {relative:E2} > {Tolerance:E0}");
    }

    /// <summary>The model's outputs from ONNX Runtime (optimizations off), as engine tensors.</summary>
    public static Dictionary<string, Tensor> Run(byte[] model, IReadOnlyDictionary<string, Tensor> feeds)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(model, options);
        using var results = session.Run([.. feeds.Select(f => ToOrt(f.Key, f.Value))]);
        return results.ToDictionary(r => r.Name, r => r.Value switch
        {
            DenseTensor<float> f => new Tensor(Dims(f), f.ToArray()),
            DenseTensor<long> l => Tensor.OfLongs(Dims(l), l.ToArray()),
            DenseTensor<bool> b => Tensor.OfBools(Dims(b), b.ToArray()),
            var other => throw new InvalidOperationException($"ONNX Runtime gave output '{r.Name}' of a type the test does not compare: {other?.GetType().Name}."),
        }, StringComparer.Ordinal);
    }

    private static int[] Dims<T>(DenseTensor<T> t) => [.. t.Dimensions.ToArray()];

    private static NamedOnnxValue ToOrt(string name, Tensor t) => t.Type switch
    {
        ElementType.Float32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(t.Data, t.Shape)),
        ElementType.Int64 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(t.Longs, t.Shape)),
        _ => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<bool>(t.Bools, t.Shape)),
    };
}
