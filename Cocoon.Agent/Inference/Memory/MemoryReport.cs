namespace Cocoon.Agent.Inference.Memory;

/// <summary>How a model's last CPU run used memory for its activations (<see cref="Buffers"/>).</summary>
/// <param name="Planned">Whether the run wrote its values into the arena from a plan (the first run with a set of input shapes is traced instead).</param>
/// <param name="ArenaBytes">The model's arena: the largest plan it has made.</param>
/// <param name="PlanBytes">What this run's plan uses of the arena.</param>
/// <param name="PeakLiveBytes">The most bytes of planned values alive at one step: the least any plan could use.</param>
/// <param name="SumBytes">Bytes of every planned value together: what the run would hold without reuse.</param>
/// <param name="Groups">Planned storage groups (values sharing storage through a reshape count once).</param>
/// <param name="Misses">Requests and outputs that did not match the plan and were served outside the arena.</param>
/// <param name="Copies">Times an operator read a planned value by copying it out rather than in place.</param>
public sealed record MemoryReport(bool Planned, long ArenaBytes, long PlanBytes, long PeakLiveBytes, long SumBytes, int Groups, int Misses, long Copies)
{
    public static MemoryReport Unplanned { get; } = new(false, 0, 0, 0, 0, 0, 0, 0);
}
