using System.Collections.Concurrent;
using System.Text.Json;
using Cocoon.Shared;
using Cocoon.Shared.Work;
using Microsoft.Extensions.Logging;

namespace Cocoon.Agent.Connection;

/// <summary>
/// Finished units the portal has not yet acknowledged. Each is written to the data directory before
/// it is sent, so neither a portal restart nor an agent restart loses finished work.
/// </summary>
public sealed class ResultOutbox
{
    private readonly string _directory;
    private readonly ConcurrentDictionary<Guid, OutboxEntry> _entries = new();
    private readonly ILogger<ResultOutbox> _logger;

    public ResultOutbox(AgentIdentity identity, ILogger<ResultOutbox> logger)
    {
        _logger = logger;
        _directory = Path.Combine(identity.DataDirectory, "outbox");
        Directory.CreateDirectory(_directory);
        foreach (var file in Directory.EnumerateFiles(_directory, "*.json"))
        {
            try
            {
                var entry = Load(file);
                _entries[entry.LeaseId] = entry;
            }
            catch (Exception ex) when (ex is JsonException or IOException)
            {
                _logger.LogWarning("Dropping unreadable outbox file {File}: {Reason}", file, ex.Message);
                File.Delete(file);
            }
        }
    }

    public IReadOnlyList<Guid> HeldLeases => [.. _entries.Keys];

    public IReadOnlyList<OutboxEntry> Pending => [.. _entries.Values];

    public void Add(UnitResult result) => Save(new OutboxEntry(result.LeaseId, result, null));

    public void Add(UnitFailure failure) => Save(new OutboxEntry(failure.LeaseId, null, failure));

    public void Remove(Guid leaseId)
    {
        _entries.TryRemove(leaseId, out _);
        File.Delete(PathOf(leaseId));
    }

    private void Save(OutboxEntry entry)
    {
        var path = PathOf(entry.LeaseId);
        var temp = path + ".tmp";
        var json = entry.Result is not null
            ? JsonSerializer.Serialize(entry.Result, CocoonJsonContext.Default.UnitResult)
            : JsonSerializer.Serialize(entry.Failure!, CocoonJsonContext.Default.UnitFailure);
        File.WriteAllText(temp, (entry.Result is not null ? "R" : "F") + json);
        File.Move(temp, path, overwrite: true);
        _entries[entry.LeaseId] = entry;
    }

    private static OutboxEntry Load(string file)
    {
        var text = File.ReadAllText(file);
        var json = text.AsSpan(1);
        if (text[0] == 'R')
        {
            var result = JsonSerializer.Deserialize(json, CocoonJsonContext.Default.UnitResult)!;
            return new OutboxEntry(result.LeaseId, result, null);
        }

        var failure = JsonSerializer.Deserialize(json, CocoonJsonContext.Default.UnitFailure)!;
        return new OutboxEntry(failure.LeaseId, null, failure);
    }

    private string PathOf(Guid leaseId) => Path.Combine(_directory, $"{leaseId:N}.json");
}

/// <summary>A result or a failure waiting for the portal's acknowledgement.</summary>
public sealed record OutboxEntry(Guid LeaseId, UnitResult? Result, UnitFailure? Failure);
