using System.Text.Json;
using System.Text.Json.Serialization;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Jobs;
using Cocoon.Shared.Pairing;
using Cocoon.Shared.Work;

namespace Cocoon.Shared;

/// <summary>
/// The one System.Text.Json source-generated context for every record that crosses the wire
/// (SignalR payloads and REST bodies). Enums travel as their names.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(AgentHello))]
[JsonSerializable(typeof(AgentWelcome))]
[JsonSerializable(typeof(AttestationChallenge))]
[JsonSerializable(typeof(AgentHeartbeat))]
[JsonSerializable(typeof(AgentBenchmark))]
[JsonSerializable(typeof(WorkAssignment))]
[JsonSerializable(typeof(UnitProgress))]
[JsonSerializable(typeof(UnitResult))]
[JsonSerializable(typeof(UnitFailure))]
[JsonSerializable(typeof(ResultAck))]
[JsonSerializable(typeof(CreateJobRequest))]
[JsonSerializable(typeof(JobView))]
[JsonSerializable(typeof(JobCostView))]
[JsonSerializable(typeof(RaiseBudgetRequest))]
[JsonSerializable(typeof(SetPriorityRequest))]
[JsonSerializable(typeof(CreateModelJobRequest))]
[JsonSerializable(typeof(IReadOnlyList<UnitOutputView>))]
[JsonSerializable(typeof(IReadOnlyList<JobView>))]
[JsonSerializable(typeof(IReadOnlyList<WorkUnitView>))]
[JsonSerializable(typeof(IReadOnlyList<AgentView>))]
[JsonSerializable(typeof(PairAgentRequest))]
[JsonSerializable(typeof(PairAgentResponse))]
[JsonSerializable(typeof(Guid))]
public sealed partial class CocoonJsonContext : JsonSerializerContext;
