using Cocoon.Agent.Connection;
using Cocoon.Agent.Options;
using Cocoon.Shared.Pairing;
using Cocoon.Shared.Work;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Agent.Tests.Connection;

public sealed class ResultOutboxTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cocoon-outbox-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Results_and_failures_survive_a_restart_until_removed()
    {
        var identity = Identity();
        var outbox = new ResultOutbox(identity, NullLogger<ResultOutbox>.Instance);
        var result = new UnitResult { LeaseId = Guid.NewGuid(), OutputDigest = new string('a', 64), Verified = true, Flops = 10, DeviceMilliseconds = 1, Gflops = 0.01, DeviceName = "cpu" };
        var failure = new UnitFailure { LeaseId = Guid.NewGuid(), Reason = "out of memory" };
        outbox.Add(result);
        outbox.Add(failure);

        var reopened = new ResultOutbox(Identity(), NullLogger<ResultOutbox>.Instance);
        Assert.Equal(2, reopened.Pending.Count);
        Assert.Equal(result, reopened.Pending.Single(e => e.LeaseId == result.LeaseId).Result);
        Assert.Equal(failure, reopened.Pending.Single(e => e.LeaseId == failure.LeaseId).Failure);
        Assert.Equal(identity.AgentId, Identity().AgentId);

        reopened.Remove(result.LeaseId);
        Assert.Single(new ResultOutbox(Identity(), NullLogger<ResultOutbox>.Instance).Pending);
    }

    [Fact]
    public void An_unreadable_file_is_dropped_not_fatal()
    {
        var identity = Identity();
        File.WriteAllText(Path.Combine(identity.DataDirectory, "outbox", "junk.json"), "R{not json");
        var outbox = new ResultOutbox(identity, NullLogger<ResultOutbox>.Instance);
        Assert.Empty(outbox.Pending);
    }

    private AgentIdentity Identity()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "outbox"));
        if (AgentCredentials.TryLoad(_dir) is null)
        {
            new AgentCredentials("http://127.0.0.1:5080/", Guid.NewGuid(), "agent-test").Save(_dir);
        }

        return new AgentIdentity(Microsoft.Extensions.Options.Options.Create(new AgentOptions { DataDirectory = _dir, PortalUrl = "http://127.0.0.1:5080" }));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
