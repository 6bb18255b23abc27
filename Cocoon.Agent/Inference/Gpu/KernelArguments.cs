namespace Cocoon.Agent.Inference.Gpu;

/// <summary>
/// Up to six dimensions passed to a kernel by value (kernels take structs, not arrays). Shapes of lower
/// rank are aligned to the right: the leading entries are 1 (or 0 for strides).
/// </summary>
internal struct Dims6
{
    public const int MaxRank = 6;

    public int D0;
    public int D1;
    public int D2;
    public int D3;
    public int D4;
    public int D5;

    /// <summary><paramref name="values"/> right-aligned, the free leading entries set to <paramref name="fill"/>.</summary>
    public static Dims6 From(ReadOnlySpan<int> values, int fill)
    {
        if (values.Length > MaxRank)
        {
            throw new ArgumentException($"Kernels take at most {MaxRank} dimensions; got {values.Length}.", nameof(values));
        }

        Span<int> all = [fill, fill, fill, fill, fill, fill];
        values.CopyTo(all[(MaxRank - values.Length)..]);
        return new Dims6 { D0 = all[0], D1 = all[1], D2 = all[2], D3 = all[3], D4 = all[4], D5 = all[5] };
    }
}

/// <summary>
/// A strided walk over a source tensor: element i of the result (row-major over <see cref="Shape"/>)
/// reads source element Offset + Σ (index_d mod Wrap_d) · Strides_d. Transpose, Slice, Split, Expand and
/// Tile are all walks; Concat writes through one in reverse.
/// </summary>
internal struct Walk
{
    public Dims6 Shape;
    public Dims6 Strides;
    public Dims6 Wrap;
    public int Offset;
}

/// <summary>One element-wise function and its two parameters (alpha, beta, min, max…).</summary>
internal struct UnaryArguments
{
    public int Op;
    public float P;
    public float Q;
}

/// <summary>Batched C = alpha · op(A) · op(B) + beta · bias, every operand described by strides.</summary>
internal struct GemmArguments
{
    public int M;
    public int N;
    public int K;
    public int ARow;
    public int ACol;
    public int BRow;
    public int BCol;
    public int BiasRow;
    public int BiasCol;
    public int HasBias;
    public float Alpha;
    public float Beta;

    /// <summary>Stretches of k the blocked kernel splits the product into (1: none), each <see cref="SplitDepth"/> deep.</summary>
    public int Splits;
    public int SplitDepth;

    /// <summary>The broadcast batch shape and, per batch dimension, how far A and B move.</summary>
    public Dims6 Batch;
    public Dims6 ABatch;
    public Dims6 BBatch;
}

/// <summary>A 2-D convolution, transposed convolution or pooling window over NCHW tensors.</summary>
internal struct ConvArguments
{
    public int Batch;
    public int Channels;
    public int Height;
    public int Width;
    public int Filters;
    public int Group;
    public int KernelHeight;
    public int KernelWidth;
    public int OutHeight;
    public int OutWidth;
    public int StrideY;
    public int StrideX;
    public int DilationY;
    public int DilationX;
    public int PadTop;
    public int PadLeft;
    public int PadBottom;
    public int PadRight;
    public int HasBias;

    /// <summary>Pooling only: 1 for max, 0 for average; and whether padding counts in the average.</summary>
    public int Max;
    public int IncludePad;
}

/// <summary>Pad: output and input shapes, the padding before each axis, the mode (0 constant, 1 reflect, 2 edge, 3 wrap).</summary>
internal struct PadArguments
{
    public Dims6 Output;
    public Dims6 Input;
    public Dims6 Begin;
    public int Mode;
    public float Value;
}
