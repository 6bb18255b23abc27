using Cocoon.Shared.Jobs;
using Cocoon.Web.Features.Jobs;

namespace Cocoon.Web.Tests.Jobs;

/// <summary>Why a job's units wait, in words: each matching rule in turn, then busy agents.</summary>
public sealed class AgentMatchTests
{
    private static AgentMatch.Candidate Agent(string name = "a", string device = "Cpu", long memory = 8L << 30, string? evidence = "Development", bool measured = false,
        double? score = 10, long price = 1000, int capacity = 1, int active = 0, double reputation = 0.5, bool granted = true) =>
        new(name, device, memory, evidence, measured, score, price, capacity, active, reputation, granted);

    private static Job Job(Action<Job>? change = null)
    {
        var job = new Job { Name = "j", Kind = JobKind.MatMul, State = JobState.Running, MinMemoryBytes = 1 << 20 };
        change?.Invoke(job);
        return job;
    }

    [Fact]
    public void No_agent_online_is_said_first()
    {
        Assert.Equal("No agent is online.", AgentMatch.Explain(Job(), []));
    }

    [Fact]
    public void Each_rule_names_itself_when_no_agent_meets_it()
    {
        Assert.Contains("key grant", AgentMatch.Explain(Job(j => j.Kind = JobKind.Model), [Agent(granted: false), Agent(granted: false)]), StringComparison.Ordinal);
        var price = AgentMatch.Explain(Job(j => j.MaxPricePerTflop = 1), [Agent(price: 5000), Agent(price: 1000)]);
        Assert.StartsWith("No agent online at or under", price, StringComparison.Ordinal);
        Assert.Contains($"the cheapest asks {Cocoon.Web.Features.Ledger.Ton.Format(1000)}", price, StringComparison.Ordinal);
        Assert.Equal("No GPU agent online.", AgentMatch.Explain(Job(j => j.DeviceClass = DeviceClass.Gpu), [Agent()]));
        Assert.Equal("No CPU agent online.", AgentMatch.Explain(Job(j => j.DeviceClass = DeviceClass.Cpu), [Agent(device: "Cuda")]));
        Assert.Contains("memory", AgentMatch.Explain(Job(j => j.MinMemoryBytes = 1L << 40), [Agent()]), StringComparison.Ordinal);
        Assert.Contains("TDX", AgentMatch.Explain(Job(j => j.AttestedOnly = true), [Agent(evidence: "Tdx", measured: false), Agent()]), StringComparison.Ordinal);
        Assert.Contains("the best has 20.0", AgentMatch.Explain(Job(j => j.MinBenchmarkScore = 50), [Agent(score: 20), Agent(score: null)]), StringComparison.Ordinal);
        Assert.Contains("reputation of at least 90", AgentMatch.Explain(Job(j => j.MinReputation = 0.9), [Agent(reputation: 0.5)]), StringComparison.Ordinal);
    }

    [Fact]
    public void Rules_apply_in_turn_so_the_first_that_leaves_none_is_named()
    {
        // One GPU agent, too dear; one cheap CPU agent: a GPU job under the cheap price waits for a GPU
        // among the agents its price allows (a GPU agent is online, but not at that price).
        var reason = AgentMatch.Explain(Job(j => { j.DeviceClass = DeviceClass.Gpu; j.MaxPricePerTflop = 2000; }), [Agent("gpu", device: "Cuda", price: 9000), Agent("cpu", price: 1000)]);
        Assert.Equal("No GPU agent online among the 1 of 2 online that meet its other rules.", reason);
    }

    [Fact]
    public void Busy_agents_are_told_apart_from_agents_that_do_not_qualify()
    {
        // The GPU agent has room but does not qualify for a CPU job; both CPU agents are full.
        Assert.Equal("All 2 agents that qualify are busy (3 unit(s) running on them).",
            AgentMatch.Explain(Job(j => j.DeviceClass = DeviceClass.Cpu), [Agent(capacity: 2, active: 2), Agent(active: 1), Agent(device: "Cuda", active: 0)]));
        Assert.Equal("The one agent that qualifies is busy (1 unit(s) running on them).", AgentMatch.Explain(Job(), [Agent(active: 1)]));

        // An agent with room: not waiting, its unit is on its way.
        Assert.Null(AgentMatch.Explain(Job(), [Agent(active: 1), Agent(active: 0)]));
    }
}
