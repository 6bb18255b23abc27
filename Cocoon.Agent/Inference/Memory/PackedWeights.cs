namespace Cocoon.Agent.Inference.Memory;

/// <summary>
/// A model's weights in the layouts its CPU kernels read them in (the GEMM's 24-column panels, the
/// direct convolution's filter blocks), each made once, at a weight's first use, and kept with the
/// model. Only the model's own weights (initializers) are kept: a tensor fed as an input may change
/// between runs, so callers repack those on every use. Packing keeps a second copy of a weight, so a
/// model keeps at most <see cref="BudgetBytes"/>: all of a small model's weights (the reference
/// transformer block's are 3 MB), and for a large one a few percent of its size (a 100 MB model's peak
/// memory stays under 2.5× its size; packing all of it took it to 3.5×).
/// </summary>
internal sealed class PackedWeights(IReadOnlySet<Tensor> weights)
{
    public const long BudgetBytes = 8L << 20;

    private readonly Dictionary<(Tensor Weight, string Form), float[]?> _packed = [];
    private readonly Lock _lock = new();
    private long _bytes;

    /// <summary>Bytes of packed weights this model holds.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>
    /// <paramref name="weight"/> in <paramref name="form"/>, <paramref name="pack"/>ed on first use into
    /// <paramref name="floats"/> floats; null if it is not one of the model's weights or the budget is spent.
    /// </summary>
    public float[]? For(Tensor weight, string form, long floats, Func<float[]> pack)
    {
        if (!weights.Contains(weight))
        {
            return null;
        }

        lock (_lock)
        {
            if (!_packed.TryGetValue((weight, form), out var packed))
            {
                packed = _bytes + (4 * floats) <= BudgetBytes ? pack() : null;
                _bytes += packed is null ? 0 : 4 * floats;
                _packed[(weight, form)] = packed;
            }

            return packed;
        }
    }

    /// <summary>Zeroes and drops every packed copy (the model is being unloaded: they are the developer's weights).</summary>
    public void Wipe()
    {
        lock (_lock)
        {
            foreach (var packed in _packed.Values)
            {
                packed?.AsSpan().Clear();
            }

            _packed.Clear();
            _bytes = 0;
        }
    }
}
