using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Cocoon.Agent.Compute;
using Cocoon.Shared.Work;

namespace Cocoon.Agent.Work;

/// <summary>
/// Runs one unit: generates its inputs batch by batch, multiplies on the device, checks every batch
/// against the C# reference, and hashes the device's output.
/// </summary>
public sealed class UnitRunner(ComputeDevice device, long batchMemoryBytes)
{
    public UnitResult Run(WorkAssignment assignment, Action<int, int> reportProgress, CancellationToken cancellationToken)
    {
        var spec = assignment.Work ?? throw new ArgumentException("Not a matrix unit.", nameof(assignment));
        var n = spec.MatrixSize;
        var matrixFloats = n * n;
        // Five n×n buffers per matrix in flight: A, B, device C, reference C (and the device's copy of A/B/C).
        var batch = (int)Math.Clamp(batchMemoryBytes / (5L * matrixFloats * sizeof(float)), 1, spec.MatrixCount);
        var a = new float[batch * matrixFloats];
        var b = new float[batch * matrixFloats];
        var c = new float[batch * matrixFloats];
        var expected = new float[batch * matrixFloats];

        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var deviceTime = new Stopwatch();
        var verified = true;
        for (var done = 0; done < spec.MatrixCount;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(batch, spec.MatrixCount - done);
            var floats = count * matrixFloats;
            for (var m = 0; m < count; m++)
            {
                MatMulInputs.Fill(spec.Seed, spec.FirstMatrix + done + m, n,
                    a.AsSpan(m * matrixFloats, matrixFloats), b.AsSpan(m * matrixFloats, matrixFloats));
            }

            deviceTime.Start();
            device.MultiplyBatch(a, b, c, n, count);
            deviceTime.Stop();

            MatMulReference.MultiplyBatch(a, b, expected, n, count);
            verified &= c.AsSpan(0, floats).SequenceEqual(expected.AsSpan(0, floats));
            digest.AppendData(MemoryMarshal.AsBytes(c.AsSpan(0, floats)));

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
            DeviceName = device.Info.Name,
        };
    }
}
