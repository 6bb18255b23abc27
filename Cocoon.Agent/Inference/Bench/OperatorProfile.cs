namespace Cocoon.Agent.Inference.Bench;

/// <summary>Time per operator type over one or more runs: where a model's latency goes (<c>infer --profile</c>).</summary>
public sealed class OperatorProfile
{
    private readonly Dictionary<string, (TimeSpan Time, int Nodes)> _byOperator = new(StringComparer.Ordinal);

    /// <summary>Operator types, slowest first, with their total time and the number of nodes run.</summary>
    public IReadOnlyList<(string Operator, TimeSpan Time, int Nodes)> Entries =>
        [.. _byOperator.OrderByDescending(e => e.Value.Time).Select(e => (e.Key, e.Value.Time, e.Value.Nodes))];

    public TimeSpan Total => _byOperator.Values.Aggregate(TimeSpan.Zero, (sum, e) => sum + e.Time);

    internal void Add(string op, TimeSpan time)
    {
        var (total, nodes) = _byOperator.GetValueOrDefault(op);
        _byOperator[op] = (total + time, nodes + 1);
    }
}
