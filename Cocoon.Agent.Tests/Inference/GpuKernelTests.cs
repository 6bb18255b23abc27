using System.Reflection;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Gpu;
using Cocoon.Agent.Inference.Graph;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using static Cocoon.Agent.Tests.Inference.OperatorConformanceTests;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>One ILGPU CPU accelerator for the class, so kernel launch counts belong to these tests alone.</summary>
public sealed class KernelCheckerFixture : IDisposable
{
    public GpuDevice Device { get; } = InferenceDevice.Open("ilgpu-cpu").Gpu!;

    public void Dispose() => Device.Dispose();
}

/// <summary>A second CPU accelerator whose products go through the tiled GEMM GPUs run.</summary>
public sealed class TiledGemmFixture : IDisposable
{
    public GpuDevice Device { get; } = InferenceDevice.Open("ilgpu-cpu").Gpu!;

    public void Dispose() => Device.Dispose();
}

/// <summary>
/// A CPU accelerator with groups of 16 × 16 threads (four warps of 64), so the 128 × 128 blocked GEMM
/// large products take on GPUs runs here too.
/// </summary>
public sealed class BlockedGemmFixture : IDisposable
{
    private readonly Context _context = Context.Create(b => b.CPU(new CPUDevice(64, 4, 1)).EnableAlgorithms());
    private readonly Accelerator _accelerator;

    public BlockedGemmFixture()
    {
        _accelerator = _context.GetCPUDevice(0).CreateAccelerator(_context);
        Device = new GpuDevice(_accelerator, Cocoon.Agent.Compute.DeviceCatalog.Describe(_accelerator.Device)) { TiledGemm = true };
    }

    public GpuDevice Device { get; }

    public void Dispose()
    {
        Device.Dispose();
        _accelerator.Dispose();
        _context.Dispose();
    }
}

/// <summary>
/// The ONNX engine's ILGPU kernels without a GPU: every kernel compiles for CUDA (PTX for Hopper) and
/// for OpenCL, and every float operator runs as kernels on ILGPU's CPU accelerator (the operator
/// conformance tests compare those runs with ONNX Runtime).
/// </summary>
public sealed class GpuKernelTests(KernelCheckerFixture fixture, TiledGemmFixture tiled, BlockedGemmFixture blocked)
    : IClassFixture<KernelCheckerFixture>, IClassFixture<TiledGemmFixture>, IClassFixture<BlockedGemmFixture>
{
    public static TheoryData<string> Kernels => [.. KernelMethods().Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Each_kernel_compiles_to_ptx_for_hopper(string kernel)
    {
        using var context = Context.Create(b => b.Default().EnableAlgorithms());
        var architecture = new CudaArchitecture(9, 0);
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, new CudaInstructionSet(7, 8), nvvmAPI: null);
        var compiled = (PTXCompiledKernel)backend.Compile(Entry(kernel), KernelSpecialization.Empty);
        Assert.Contains(".entry ", compiled.PTXAssembly, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Each_kernel_compiles_to_opencl_c(string kernel)
    {
        using var context = Context.Create(b => b.Default().EnableAlgorithms());
        var capabilities = new CLCapabilityContext(float16: false, float64: false, genericAddressSpace: true, int64_Atomics: false, subGroups: false);
        using var backend = new CLBackend(context, capabilities, CLDeviceVendor.Nvidia, CLBackend.MinimumVersion);
        var compiled = (CLCompiledKernel)backend.Compile(Entry(kernel), KernelSpecialization.Empty);
        Assert.Contains("kernel void", compiled.Source, StringComparison.Ordinal);
    }

    public static TheoryData<string> FloatOperators => [.. OperatorModels().Keys];

    [Theory]
    [MemberData(nameof(FloatOperators))]
    public void Each_float_operator_runs_as_kernels_and_matches_the_cpu_kernels(string op)
    {
        var (model, feeds) = OperatorModels()[op];
        var loaded = OnnxModel.Load(model);
        var before = fixture.Device.KernelLaunches;

        var gpu = loaded.Run(feeds, fixture.Device, out var gpuFlops, out _);

        Assert.True(fixture.Device.KernelLaunches > before, $"{op} launched no kernel: it fell back to the CPU.");
        var cpu = loaded.Run(feeds, out var cpuFlops);
        Assert.Equal(cpuFlops, gpuFlops);
        foreach (var (name, expected) in cpu)
        {
            Assert.Equal(expected.Shape, gpu[name].Shape);
            Assert.Null(gpu[name].Device);
            OrtReference.AssertClose(expected.Data, gpu[name].Data, $"{op} output {name}");
        }
    }

    [Fact]
    public void A_model_runs_again_with_its_weights_kept_on_the_device_and_gives_the_same_answer()
    {
        var reference = ReferenceModels.Mlp();
        var model = OnnxModel.Load(reference.Onnx);
        var feeds = Feeds((reference.Input, RandomTensor(new Random(2), reference.InputShape(3), -1, 1)));
        var first = model.Run(feeds, fixture.Device, out _, out _).Single().Value.Data;
        var second = model.Run(feeds, fixture.Device, out _, out _).Single().Value.Data;
        Assert.Equal(first, second);
        OrtReference.AssertClose(model.Run(feeds).Single().Value.Data, first, "mlp");
    }

    internal static readonly string[] ProductLabels = ["matmul odd sizes", "matmul broadcast batch", "gemm transposed with row bias", "gemm with column bias and scaling", "vector times matrix"];

    /// <summary>The products with a large form (a vector times a matrix has one row, so never takes the blocked kernel).</summary>
    internal static readonly string[] BlockedProductLabels = ProductLabels[..^1];

    public static TheoryData<string> Products => [.. ProductLabels];

    /// <summary>
    /// The shared-memory tiled GEMM that GPUs run for small products, forced on ILGPU's CPU accelerator
    /// (4 × 4 tiles there) at sizes that leave partial tiles on every edge.
    /// </summary>
    [Theory]
    [MemberData(nameof(Products))]
    public void The_tiled_product_matches_the_cpu_kernels(string label)
    {
        var (model, feeds) = Product(label, small: true);
        tiled.Device.TiledGemm = true;
        AssertProductMatches(model, feeds, tiled.Device, label);
    }

    public static TheoryData<string> BlockedProducts => [.. BlockedProductLabels];

    /// <summary>Products deep enough (k of 200 and more) that the blocked kernel splits k when the grid is small, and one with k = 0 (zeros, never split).</summary>
    internal static readonly string[] SplitProductLabels = ["deep matmul", "deep gemm with bias and scaling", "deep batched matmul", "matmul with nothing to sum"];

    public static TheoryData<string> SplitProducts => [.. SplitProductLabels];

    /// <summary>
    /// The 128 × 128 blocked GEMM GPUs run for products of 64 rows and columns or more, on a CPU
    /// accelerator whose groups hold its 256 threads: partial blocks on both edges, a depth that is
    /// not a multiple of the 8-deep slab, broadcast batches, transposed operands, bias and scaling.
    /// </summary>
    [Theory]
    [MemberData(nameof(BlockedProducts))]
    public void The_blocked_product_matches_the_cpu_kernels(string label)
    {
        var (model, feeds) = Product(label, small: false);
        var before = blocked.Device.KernelLaunches;
        AssertProductMatches(model, feeds, blocked.Device, label);
        Assert.True(blocked.Device.KernelLaunches > before);
    }

    /// <summary>
    /// The blocked GEMM split along k (stretches summed into slices, then added with alpha and the
    /// bias by a second kernel), as on a GPU with more multiprocessors than the product has groups:
    /// the last stretch shorter than the others, a bias, scaling and batches.
    /// </summary>
    [Theory]
    [MemberData(nameof(SplitProducts))]
    public void The_blocked_product_split_along_k_matches_the_cpu_kernels(string label)
    {
        var (model, feeds) = Product(label, small: false);
        blocked.Device.Multiprocessors = 64;
        try
        {
            AssertProductMatches(model, feeds, blocked.Device, label);
        }
        finally
        {
            blocked.Device.Multiprocessors = 1;
        }
    }

    internal static void AssertProductMatches(OnnxModel model, Dictionary<string, Tensor> feeds, GpuDevice device, string label)
    {
        var gpu = model.Run(feeds, device, out _, out _)["y"];
        var cpu = model.Run(feeds)["y"];
        Assert.Equal(cpu.Shape, gpu.Shape);
        OrtReference.AssertClose(cpu.Data, gpu.Data, label);
    }

    /// <summary>A one-node MatMul or Gemm model and its inputs; the large forms need the blocked kernel (64 or more rows and columns).</summary>
    internal static (OnnxModel Model, Dictionary<string, Tensor> Feeds) Product(string label, bool small)
    {
        var random = new Random(label.Length);
        var builder = new OnnxGraphBuilder(17).AnyOutput("y");
        (int[] A, int[] B) shapes = (label, small) switch
        {
            ("matmul odd sizes", true) => ([6, 13], [13, 10]),
            ("matmul odd sizes", false) => ([130, 21], [21, 197]),
            ("matmul broadcast batch", true) => ([2, 1, 5, 7], [3, 7, 9]),
            ("matmul broadcast batch", false) => ([2, 1, 70, 9], [3, 9, 66]),
            ("gemm transposed with row bias", true) => ([7, 5], [11, 7]),
            ("gemm transposed with row bias", false) => ([17, 129], [140, 17]),
            ("gemm with column bias and scaling", true) => ([9, 6], [6, 5]),
            ("gemm with column bias and scaling", false) => ([72, 16], [16, 65]),
            ("deep matmul", _) => ([70, 300], [300, 90]),
            ("deep gemm with bias and scaling", _) => ([72, 200], [200, 65]),
            ("deep batched matmul", _) => ([3, 66, 257], [257, 70]),
            ("matmul with nothing to sum", _) => ([70, 0], [0, 66]),
            _ => ([7], [7, 6]),
        };
        var biasLength = label.StartsWith("gemm transposed", StringComparison.Ordinal) ? shapes.B[0] : shapes.A[0];
        builder.Input("a", [.. shapes.A.Cast<object>()]).Input("b", [.. shapes.B.Cast<object>()]);
        var feeds = Feeds(("a", RandomTensor(random, shapes.A, -1, 1)), ("b", RandomTensor(random, shapes.B, -1, 1)));
        _ = label switch
        {
            "gemm transposed with row bias" => builder.Initializer("c", [biasLength], RandomTensor(random, [biasLength], -1, 1).Data)
                .Node("Gemm", ["a", "b", "c"], "y", ("transA", 1L), ("transB", 1L)),
            "gemm with column bias and scaling" or "deep gemm with bias and scaling" => builder.Initializer("c", [biasLength, 1], RandomTensor(random, [biasLength, 1], -1, 1).Data)
                .Node("Gemm", ["a", "b", "c"], "y", ("alpha", 0.5f), ("beta", -2f)),
            _ => builder.Node("MatMul", ["a", "b"], "y"),
        };
        return (OnnxModel.Load(builder.Build()), feeds);
    }

    /// <summary>Freed device memory comes back zeroed to the next allocation of its length, and is kept until the device goes.</summary>
    [Fact]
    public void Freed_device_memory_is_zeroed_and_reused()
    {
        var pool = fixture.Device.Pool;
        var kept = pool.KeptBytes;
        var first = fixture.Device.Allocate(1237);
        first.Upload([.. Enumerable.Range(1, 1237).Select(i => (float)i)]);
        first.Dispose();
        Assert.Equal(kept + (1237 * sizeof(float)), pool.KeptBytes);

        using var second = fixture.Device.Allocate(1237);
        Assert.Equal(kept, pool.KeptBytes);
        Assert.All(second.Download(), v => Assert.Equal(0f, v));
    }

    private static MethodInfo[] KernelMethods() => typeof(GpuKernels).GetMethods(BindingFlags.Public | BindingFlags.Static);

    /// <summary>Implicitly grouped kernels take their index first; the others (the tiled GEMM) are explicitly grouped.</summary>
    private static EntryPointDescription Entry(string kernel)
    {
        var method = typeof(GpuKernels).GetMethod(kernel, BindingFlags.Public | BindingFlags.Static)!;
        return method.GetParameters()[0].ParameterType == typeof(Index1D)
            ? EntryPointDescription.FromImplicitlyGroupedKernel(method)
            : EntryPointDescription.FromExplicitlyGroupedKernel(method);
    }

    /// <summary>A small one-node model and its inputs for every operator that has a kernel.</summary>
    internal static Dictionary<string, (byte[] Model, Dictionary<string, Tensor> Feeds)> OperatorModels()
    {
        var random = new Random(11);
        var models = new Dictionary<string, (byte[], Dictionary<string, Tensor>)>(StringComparer.Ordinal);
        (byte[], Dictionary<string, Tensor>) One(string op, int[] shape, params (string Name, object Value)[] attributes) =>
            (new OnnxGraphBuilder(17).Input("x", [.. shape.Cast<object>()]).AnyOutput("y").Node(op, ["x"], "y", attributes).Build(), Feeds(("x", RandomTensor(random, shape, 0.1f, 2))));
        (byte[], Dictionary<string, Tensor>) WithWeights(string op, int[] shape, (string Name, int[] Shape)[] weights, params (string Name, object Value)[] attributes)
        {
            var builder = new OnnxGraphBuilder(17).Input("x", [.. shape.Cast<object>()]).AnyOutput("y");
            foreach (var (name, dims) in weights)
            {
                builder.Initializer(name, dims, RandomTensor(random, dims, 0.1f, 1).Data);
            }

            return (builder.Node(op, ["x", .. weights.Select(w => w.Name)], "y", attributes).Build(), Feeds(("x", RandomTensor(random, shape, -1, 1))));
        }

        foreach (var op in new[] { "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Neg", "Abs", "Sqrt", "Reciprocal", "Erf", "LeakyRelu", "Elu", "Selu", "Softplus", "Sign", "Shrink", "HardSigmoid", "HardSwish", "Softmax", "LogSoftmax" })
        {
            models[op] = One(op, [3, 7]);
        }

        // Rows longer than a group's threads (16 on ILGPU's CPU accelerator), so each thread strides along its row.
        models["Softmax over a middle axis of 37"] = One("Softmax", [2, 37, 3], ("axis", 1L));
        models["LogSoftmax over rows of 300"] = One("LogSoftmax", [3, 300]);
        models["LayerNormalization over rows of 300"] = WithWeights("LayerNormalization", [4, 300], [("scale", [300]), ("shift", [300])]);
        models["Gelu"] = (new OnnxGraphBuilder(20).Input("x", 2, 9).AnyOutput("y").Node("Gelu", ["x"], "y").Build(), Feeds(("x", RandomTensor(random, [2, 9], -3, 3))));
        models["Clip"] = (new OnnxGraphBuilder(17).Input("x", 4, 5).AnyOutput("y").Initializer("lo", [], [-0.5f]).Initializer("hi", [], [0.5f]).Node("Clip", ["x", "lo", "hi"], "y").Build(), Feeds(("x", RandomTensor(random, [4, 5], -1, 1))));
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "PRelu" })
        {
            models[op] = WithWeights(op, [2, 3, 4], [("b", [3, 1])]);
        }

        models["MatMul"] = WithWeights("MatMul", [2, 3, 5], [("w", [5, 4])]);
        models["Gemm"] = WithWeights("Gemm", [6, 5], [("w", [4, 5]), ("c", [4])], ("transB", 1L), ("alpha", 0.5f), ("beta", 2f));
        models["Conv"] = WithWeights("Conv", [1, 4, 6, 5], [("w", [6, 2, 3, 3]), ("bias", [6])], ("group", 2L), ("pads", new long[] { 1, 0, 1, 2 }), ("strides", new long[] { 2, 1 }));
        models["Conv whose kernel is wider than the padded input"] = WithWeights("Conv", [1, 2, 1, 1], [("w", [3, 2, 1, 5])], ("pads", new long[] { 0, 2, 0, 2 }));
        models["LRN"] = One("LRN", [2, 5, 3, 2], ("size", 3L), ("alpha", 0.01f));
        models["ConvTranspose"] = WithWeights("ConvTranspose", [1, 2, 3, 4], [("w", [2, 3, 3, 2]), ("bias", [3])], ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 0, 0, 1 }));
        models["MaxPool"] = One("MaxPool", [1, 2, 5, 6], ("kernel_shape", new long[] { 3, 2 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }));
        models["AveragePool"] = One("AveragePool", [1, 2, 5, 6], ("kernel_shape", new long[] { 2, 3 }), ("pads", new long[] { 1, 1, 0, 1 }), ("count_include_pad", 1L));
        models["GlobalAveragePool"] = One("GlobalAveragePool", [2, 3, 4, 5]);
        models["InstanceNormalization"] = WithWeights("InstanceNormalization", [2, 3, 4, 5], [("scale", [3]), ("shift", [3])]);
        models["BatchNormalization"] = WithWeights("BatchNormalization", [2, 3, 4, 5], [("scale", [3]), ("shift", [3]), ("mean", [3]), ("var", [3])]);
        models["LayerNormalization"] = WithWeights("LayerNormalization", [2, 3, 8], [("scale", [8]), ("shift", [8])]);
        models["ReduceSum"] = WithLongs("ReduceSum", [2, 3, 4], "axes", [0, 2], random);
        models["ReduceMean"] = One("ReduceMean", [2, 3, 4], ("axes", new long[] { 1 }), ("keepdims", 0L));
        models["ReduceMax"] = One("ReduceMax", [2, 3, 4], ("axes", new long[] { -1 }));
        models["Transpose"] = One("Transpose", [2, 3, 4], ("perm", new long[] { 2, 0, 1 }));
        models["Split"] = (new OnnxGraphBuilder(17).Input("x", 4, 6).AnyOutput("y").AnyOutput("z").Node("Split", ["x"], ["y", "z"], ("axis", 1L)).Build(), Feeds(("x", RandomTensor(random, [4, 6], -1, 1))));
        models["Concat"] = WithWeights("Concat", [2, 3], [("b", [2, 5])], ("axis", -1L));
        models["Slice"] = new OnnxGraphBuilder(17).Input("x", 5, 6).AnyOutput("y").Longs("s", [2], [4, 1]).Longs("e", [2], [0, 6]).Longs("a", [2], [0, 1]).Longs("t", [2], [-2, 2])
            .Node("Slice", ["x", "s", "e", "a", "t"], "y").Build() is var slice ? (slice, Feeds(("x", RandomTensor(random, [5, 6], -1, 1)))) : default;
        models["Gather"] = WithLongs("Gather", [5, 3], "i", [4, -1, 0], random);
        models["Expand"] = WithLongs("Expand", [3, 1], "s", [2, 3, 4], random);
        models["Tile"] = WithLongs("Tile", [2, 3], "r", [2, 2], random);
        models["Pad"] = WithLongs("Pad", [3, 4], "p", [1, 2, 0, 1], random, ("mode", "reflect"));
        return models;
    }

    private static (byte[], Dictionary<string, Tensor>) WithLongs(string op, int[] shape, string name, long[] values, Random random, params (string Name, object Value)[] attributes) =>
        (new OnnxGraphBuilder(17).Input("x", [.. shape.Cast<object>()]).AnyOutput("y").Longs(name, [values.Length], values).Node(op, ["x", name], "y", attributes).Build(),
            Feeds(("x", RandomTensor(random, shape, -1, 1))));
}

/// <summary>The machine's CUDA device for the class, or null where ILGPU finds none.</summary>
public sealed class CudaFixture : IDisposable
{
    public CudaFixture()
    {
        using var context = Cocoon.Agent.Compute.DeviceCatalog.CreateContext();
        if (context.Devices.Any(d => d.AcceleratorType == AcceleratorType.Cuda))
        {
            Device = InferenceDevice.Open("cuda");
        }
    }

    public InferenceDevice? Device { get; }

    public void Dispose() => Device?.Dispose();
}

/// <summary>
/// The engine on a real NVIDIA GPU against the CPU kernels: every float operator, the products at the
/// sizes that take each GEMM kernel, and the reference models. Skipped where ILGPU finds no CUDA device.
/// </summary>
[Trait("Category", "Gpu")]
public sealed class CudaEngineTests(CudaFixture cuda) : IClassFixture<CudaFixture>
{
    public static TheoryData<string> FloatOperators => GpuKernelTests.FloatOperators;

    public static IEnumerable<object[]> Products =>
        [.. GpuKernelTests.ProductLabels.Select(p => new object[] { p, true }),
            .. GpuKernelTests.BlockedProductLabels.Concat(GpuKernelTests.SplitProductLabels).Select(p => new object[] { p, false })];

    [SkippableTheory]
    [MemberData(nameof(FloatOperators))]
    public void Each_float_operator_on_cuda_matches_the_cpu_kernels(string op)
    {
        var device = Cuda();
        var (model, feeds) = GpuKernelTests.OperatorModels()[op];
        var loaded = OnnxModel.Load(model);
        var before = device.Gpu!.KernelLaunches;
        var gpu = device.Run(loaded, feeds, out var gpuFlops, out _);
        Assert.True(device.Gpu.KernelLaunches > before, $"{op} launched no kernel: it fell back to the CPU.");
        var cpu = loaded.Run(feeds, out var cpuFlops);
        Assert.Equal(cpuFlops, gpuFlops);
        foreach (var (name, expected) in cpu)
        {
            Assert.Equal(expected.Shape, gpu[name].Shape);
            OrtReference.AssertClose(expected.Data, gpu[name].Data, $"{op} output {name} on CUDA");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Products))]
    public void Each_product_on_cuda_matches_the_cpu_kernels(string label, bool small)
    {
        var device = Cuda();
        var (model, feeds) = GpuKernelTests.Product(label, small);
        GpuKernelTests.AssertProductMatches(model, feeds, device.Gpu!, $"{label} ({(small ? "16 × 16 tiles" : "128 × 128 blocks")}) on CUDA");
    }

    [SkippableFact]
    public void The_reference_models_on_cuda_match_the_cpu_kernels()
    {
        var device = Cuda();
        foreach (var reference in ReferenceModels.All)
        {
            var model = OnnxModel.Load(reference.Onnx);
            foreach (var batch in new[] { 1, 32 })
            {
                var feeds = Feeds((reference.Input, RandomTensor(new Random(batch), reference.InputShape(batch), -1, 1)));
                var before = device.Gpu!.KernelLaunches;
                var gpu = device.Run(model, feeds, out _, out _);
                Assert.True(device.Gpu.KernelLaunches > before);
                foreach (var (name, expected) in model.Run(feeds))
                {
                    OrtReference.AssertClose(expected.Data, gpu[name].Data, $"{reference.Name} batch {batch} {name} on CUDA");
                }
            }
        }
    }

    private InferenceDevice Cuda()
    {
        Skip.If(cuda.Device is null, "No CUDA device on this machine.");
        return cuda.Device!;
    }
}
