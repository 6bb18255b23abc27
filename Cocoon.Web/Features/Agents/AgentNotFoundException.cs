namespace Cocoon.Web.Features.Agents;

public sealed class AgentNotFoundException(Guid id) : Exception($"There is no agent {id}.");
