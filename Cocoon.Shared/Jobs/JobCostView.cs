namespace Cocoon.Shared.Jobs;

/// <summary>What a job has cost and is expected to cost, and what each agent that ran it asked (<c>GET /api/jobs/{id}/cost</c>). Amounts are nanotons as strings of digits.</summary>
public sealed record JobCostView
{
    /// <summary>Charged so far: each succeeded unit's cost and the platform's fee on it.</summary>
    public required string Charged { get; init; }

    /// <summary>What is held for the job.</summary>
    public required string Budget { get; init; }

    /// <summary>What the whole job is expected to cost (its final charge once it ended); null when nothing prices it yet.</summary>
    public string? Estimate { get; init; }

    /// <summary>How the estimate was made, or why there is none, in words.</summary>
    public required string EstimateBasis { get; init; }

    /// <summary>Each agent that ran units, at each price it ran them at.</summary>
    public required IReadOnlyList<AgentCostView> Agents { get; init; }
}

/// <summary>One agent's share of a job, at one price.</summary>
public sealed record AgentCostView
{
    /// <summary>The agent's id.</summary>
    public required Guid AgentId { get; init; }

    /// <summary>The agent's name.</summary>
    public required string Name { get; init; }

    /// <summary>Nanotons per TFLOP its units were priced at.</summary>
    public required string PricePerTflop { get; init; }

    /// <summary>Units it finished at this price.</summary>
    public required int Units { get; init; }

    /// <summary>Rows (or products) in those units.</summary>
    public required long Rows { get; init; }
}
