using Cocoon.Shared.Work;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>Recomputes a unit's output digest independently of any agent: generator, C# reference, SHA-256.</summary>
public static class ExpectedOutput
{
    public static string Digest(int matrixSize, long seed, long firstMatrix, int matrixCount) =>
        MatMulReference.OutputDigest(new MatMulSpec { MatrixSize = matrixSize, Seed = seed, FirstMatrix = firstMatrix, MatrixCount = matrixCount });
}
