using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Attestation;

/// <summary>The allow-list of TD measurements, kept by admins.</summary>
public sealed class TdxMeasurements(CocoonDbContext db, TimeProvider clock, ILogger<TdxMeasurements> logger)
{
    public async Task<IReadOnlyList<TdxMeasurementView>> ListAsync(CancellationToken cancellationToken) =>
        await db.Set<TdxMeasurement>().AsNoTracking().OrderBy(m => m.AddedAt)
            .Select(m => new TdxMeasurementView(m.Id, m.Mrtd, m.Label,
                db.Set<Account>().Where(a => a.Id == m.AddedByAccountId).Select(a => a.FriendlyAddress).FirstOrDefault(), m.AddedAt))
            .ToListAsync(cancellationToken);

    public async Task<HashSet<string>> AllowedAsync(CancellationToken cancellationToken) =>
        [.. await db.Set<TdxMeasurement>().AsNoTracking().Select(m => m.Mrtd).ToListAsync(cancellationToken)];

    /// <exception cref="InvalidMeasurementException">Not 48 bytes of hex, no label, or already allowed.</exception>
    public async Task<TdxMeasurementView> AddAsync(AddTdxMeasurementRequest request, Guid byAccountId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var mrtd = (request.Mrtd ?? "").Trim().ToLowerInvariant();
        var label = (request.Label ?? "").Trim();
        if (mrtd.Length != 96 || !mrtd.All(char.IsAsciiHexDigit))
        {
            throw new InvalidMeasurementException("An MRTD is 48 bytes: 96 hex digits, as the quote reports it.");
        }

        if (label.Length is 0 or > 100)
        {
            throw new InvalidMeasurementException("Say what image this measures, in 1 to 100 characters.");
        }

        if (await db.Set<TdxMeasurement>().AnyAsync(m => m.Mrtd == mrtd, cancellationToken))
        {
            throw new InvalidMeasurementException("This measurement is already allowed.");
        }

        var measurement = new TdxMeasurement { Id = Guid.CreateVersion7(), Mrtd = mrtd, Label = label, AddedByAccountId = byAccountId, AddedAt = clock.GetUtcNow() };
        db.Add(measurement);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogWarning("TDX measurement {Mrtd} ({Label}) allowed by account {Account}", mrtd, label, byAccountId);
        return new TdxMeasurementView(measurement.Id, mrtd, label, null, measurement.AddedAt);
    }

    /// <summary>
    /// Removes a measurement. Agents attested with it lose their enclave key at once, so no grant made
    /// to them is used again; they are refused when they reconnect with the same image.
    /// </summary>
    public async Task<bool> RemoveAsync(Guid id, Guid byAccountId, CancellationToken cancellationToken)
    {
        var measurement = await db.Set<TdxMeasurement>().SingleOrDefaultAsync(m => m.Id == id, cancellationToken);
        if (measurement is null)
        {
            return false;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Remove(measurement);
        await db.SaveChangesAsync(cancellationToken);
        var agents = await db.Agents.Where(a => a.Measurement == measurement.Mrtd)
            .ExecuteUpdateAsync(s => s
                .SetProperty(a => a.EnclavePublicKey, (byte[]?)null)
                .SetProperty(a => a.EvidenceKind, (Shared.Attestation.EvidenceKind?)null)
                .SetProperty(a => a.AttestedAt, (DateTimeOffset?)null), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogWarning("TDX measurement {Mrtd} ({Label}) removed from the allow-list by account {Account}; {Agents} agent(s) lost their attestation",
            measurement.Mrtd, measurement.Label, byAccountId, agents);
        return true;
    }
}
