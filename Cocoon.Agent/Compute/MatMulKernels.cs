using ILGPU;
using ILGPU.Runtime;

namespace Cocoon.Agent.Compute;

/// <summary>ILGPU kernels for batched square matrix products. Static and pure: structs and views only.</summary>
public static class MatMulKernels
{
    /// <summary>
    /// One thread per output element: index = (column, row, matrix). Row-major n×n matrices laid end to
    /// end. The inner loop reads B down a column; coalescing and tiling come with the ONNX engine.
    /// </summary>
    public static void BatchedMultiply(Index3D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int n)
    {
        var column = index.X;
        var row = index.Y;
        var offset = (long)index.Z * n * n;
        var rowStart = offset + ((long)row * n);
        var sum = 0f;
        for (var k = 0; k < n; k++)
        {
            sum += a[rowStart + k] * b[offset + ((long)k * n) + column];
        }

        c[rowStart + column] = sum;
    }
}
