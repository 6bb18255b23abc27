using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Cocoon.Agent.Work;
using Cocoon.Shared.Work;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>Recomputes a unit's output digest independently of any agent: generator, C# reference, SHA-256.</summary>
public static class ExpectedOutput
{
    public static string Digest(int matrixSize, long seed, long firstMatrix, int matrixCount)
    {
        var n = matrixSize;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var a = new float[n * n];
        var b = new float[n * n];
        var c = new float[n * n];
        for (var m = 0; m < matrixCount; m++)
        {
            MatMulInputs.Fill(seed, firstMatrix + m, n, a, b);
            MatMulReference.MultiplyBatch(a, b, c, n, 1);
            hash.AppendData(MemoryMarshal.AsBytes(c.AsSpan()));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
