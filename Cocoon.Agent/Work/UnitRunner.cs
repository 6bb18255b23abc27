using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Graph;
using Cocoon.Shared.Work;

namespace Cocoon.Agent.Work;

/// <summary>
/// Runs one matrix unit: generates its inputs batch by batch, multiplies them with the ONNX engine on
/// the agent's device (a one-node batched MatMul, so the CPU's SIMD GEMM or the GPU's, whichever models
/// run on), checks every batch against the C# reference, and hashes the device's output.
/// </summary>
public sealed class UnitRunner(InferenceDevice device, long batchMemoryBytes)
{
    private readonly OnnxModel _product = OnnxModel.Load(new OnnxGraphBuilder()
        .Input("a", "count", "n", "n").Input("b", "count", "n", "n").Output("c", "count", "n", "n")
        .Node("MatMul", ["a", "b"], "c").Build());

    public UnitResult Run(WorkAssignment assignment, Action<int, int> reportProgress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        ArgumentNullException.ThrowIfNull(reportProgress);
        var spec = assignment.Work ?? throw new ArgumentException("Not a matrix unit.", nameof(assignment));
        var n = spec.MatrixSize;
        var matrixFloats = n * n;
        // Five n×n buffers per matrix in flight: A, B, the device's C, the reference C (and a GPU's copies).
        var batch = (int)Math.Clamp(batchMemoryBytes / (5L * matrixFloats * sizeof(float)), 1, spec.MatrixCount);

        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var deviceTime = new Stopwatch();
        var verified = true;
        float[] a = [], b = [], expected = [];
        for (var done = 0; done < spec.MatrixCount;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(batch, spec.MatrixCount - done);
            if (a.Length != count * matrixFloats)
            {
                // A tensor is exactly its elements: the last, shorter batch gets arrays of its own.
                (a, b, expected) = (new float[count * matrixFloats], new float[count * matrixFloats], new float[count * matrixFloats]);
            }

            for (var m = 0; m < count; m++)
            {
                MatMulInputs.Fill(spec.Seed, spec.FirstMatrix + done + m, n,
                    a.AsSpan(m * matrixFloats, matrixFloats), b.AsSpan(m * matrixFloats, matrixFloats));
            }

            var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal) { ["a"] = new([count, n, n], a), ["b"] = new([count, n, n], b) };
            deviceTime.Start();
            var product = device.Run(_product, feeds, out _, out _)["c"];
            deviceTime.Stop();
            var c = product.Data;

            MatMulReference.MultiplyBatch(a, b, expected, n, count);
            // Bit for bit: the inputs make every product exact, so a -0 for a +0 is a wrong answer too
            // (it would change the digest).
            verified &= MemoryMarshal.AsBytes(c.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(expected.AsSpan()));
            digest.AppendData(MemoryMarshal.AsBytes(c.AsSpan()));

            done += count;
            reportProgress(done, spec.MatrixCount);
        }

        var seconds = Math.Max(deviceTime.Elapsed.TotalSeconds, 1e-9);
        return new UnitResult
        {
            LeaseId = assignment.LeaseId,
            OutputDigest = Convert.ToHexStringLower(digest.GetHashAndReset()),
            Verified = verified,
            Flops = spec.Flops,
            DeviceMilliseconds = deviceTime.Elapsed.TotalMilliseconds,
            Gflops = spec.Flops / seconds / 1e9,
            DeviceName = device.Name,
        };
    }
}
