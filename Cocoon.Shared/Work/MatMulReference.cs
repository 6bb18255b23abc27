using System.Runtime.InteropServices;
using System.Security.Cryptography;
namespace Cocoon.Shared.Work;

/// <summary>
/// The plain C# product every device result is checked against: by the agent before it reports a
/// unit, and by the portal on the units it checks unannounced (canaries).
/// </summary>
public static class MatMulReference
{
    /// <summary>C = A·B for <paramref name="count"/> n×n matrices stored one after another.</summary>
    public static void MultiplyBatch(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int n, int count)
    {
        var size = n * n;
        for (var m = 0; m < count; m++)
        {
            Multiply(a.Slice(m * size, size), b.Slice(m * size, size), c.Slice(m * size, size), n);
        }
    }

    /// <summary>
    /// The digest a correct device must report for a unit, computed without any device: generator,
    /// reference product, SHA-256 over the outputs in matrix order (what canary checks compare).
    /// </summary>
    public static string OutputDigest(MatMulSpec spec)
    {
        var n = spec.MatrixSize;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var a = new float[n * n];
        var b = new float[n * n];
        var c = new float[n * n];
        for (var m = 0; m < spec.MatrixCount; m++)
        {
            MatMulInputs.Fill(spec.Seed, spec.FirstMatrix + m, n, a, b);
            Multiply(a, b, c, n);
            hash.AppendData(MemoryMarshal.AsBytes(c.AsSpan()));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    // i-k-j order walks B and C by rows, which keeps the loop cache-friendly without changing the sum.
    private static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int n)
    {
        c.Clear();
        for (var i = 0; i < n; i++)
        {
            var cRow = c.Slice(i * n, n);
            for (var k = 0; k < n; k++)
            {
                var aik = a[(i * n) + k];
                var bRow = b.Slice(k * n, n);
                for (var j = 0; j < n; j++)
                {
                    cRow[j] += aik * bRow[j];
                }
            }
        }
    }
}
