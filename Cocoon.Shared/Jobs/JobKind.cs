namespace Cocoon.Shared.Jobs;

/// <summary>What a job computes.</summary>
public enum JobKind
{
    /// <summary>Matrix products from generated inputs (the benchmark workload: no data, public results).</summary>
    MatMul = 0,

    /// <summary>A developer's sealed model over the rows of their sealed dataset, with sealed outputs.</summary>
    Model = 1,
}
