using System.Security.Cryptography;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity.TonProof;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Identity;

/// <summary>Issues the one-time payloads wallets sign, and spends each exactly once.</summary>
public sealed class ProofPayloads(CocoonDbContext db, TimeProvider clock, IOptions<WalletSignInOptions> options)
{
    public async Task<string> IssueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var payload = new ProofPayload
        {
            Payload = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
            IssuedAt = now,
            ExpiresAt = now.AddMinutes(options.Value.PayloadMinutes),
        };
        db.Add(payload);
        await db.SaveChangesAsync(cancellationToken);
        return payload.Payload;
    }

    /// <summary>
    /// The hourly Hangfire job (<see cref="PurgeJobId"/>): payloads are useless once expired; a day's grace
    /// keeps "reused" distinguishable from "unknown". Safe to run twice.
    /// </summary>
    public Task<int> PurgeExpiredAsync(CancellationToken cancellationToken)
    {
        var horizon = clock.GetUtcNow().AddDays(-1);
        return db.Set<ProofPayload>().Where(p => p.ExpiresAt < horizon).ExecuteDeleteAsync(cancellationToken);
    }

    public const string PurgeJobId = "identity:purge-expired-payloads";

    /// <summary>Marks the payload used; throws unknown_payload, payload_expired or payload_reused.</summary>
    public async Task SpendAsync(string payload, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();

        // One statement, so two sign-ins racing with the same proof cannot both win.
        var spent = await db.Set<ProofPayload>()
            .Where(p => p.Payload == payload && p.UsedAt == null && p.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.UsedAt, now), cancellationToken);
        if (spent == 1)
        {
            return;
        }

        var found = await db.Set<ProofPayload>().AsNoTracking().SingleOrDefaultAsync(p => p.Payload == payload, cancellationToken);
        throw found switch
        {
            null => new TonProofException("unknown_payload", "This portal did not issue that payload: ask for a new one."),
            { UsedAt: not null } => new TonProofException("payload_reused", "That payload was used already: each sign-in needs a new one."),
            _ => new TonProofException("payload_expired", "That payload expired: ask for a new one and sign again."),
        };
    }
}
