using Cocoon.Agent.Inference.Operators;

namespace Cocoon.Agent.Inference;

/// <summary>
/// A model's weights and, for those its products read, their panels packed once for the CPU GEMM
/// (<see cref="GemmKernel.Prepack"/>). Packing keeps a second copy of each weight, so a model packs at
/// most <see cref="BudgetBytes"/>: all of a small model's weights (the reference transformer block's are
/// 3 MB), and for a large one no more than a few percent of its size (a 100 MB model's peak memory
/// stays under 2.5× its size; packing all of it took it to 3.5×). Beyond the budget, products pack
/// panels as they go, as before.
/// </summary>
internal sealed class PackedWeights(IReadOnlySet<Tensor> weights)
{
    public const long BudgetBytes = 8L << 20;

    private readonly Dictionary<Tensor, float[]?> _packed = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _lock = new();
    private long _bytes;

    /// <summary>Bytes of packed panels this model holds.</summary>
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

    /// <summary>Whether <paramref name="t"/> is one of the model's weights (an initializer): constant for the model's life.</summary>
    public bool IsWeight(Tensor t) => weights.Contains(t);

    /// <summary>The panels of <paramref name="weight"/> seen as a k × n matrix, packed on first use; null if it is not a weight or the budget is spent.</summary>
    public float[]? For(Tensor weight, int k, int n)
    {
        if (!IsWeight(weight))
        {
            return null;
        }

        lock (_lock)
        {
            if (!_packed.TryGetValue(weight, out var panels))
            {
                var bytes = 4L * (n / 24 * 24) * k;
                panels = _bytes + bytes <= BudgetBytes ? GemmKernel.Prepack(weight.Data, k, n) : null;
                _bytes += panels is null ? 0 : bytes;
                _packed[weight] = panels;
            }

            return panels;
        }
    }
}
