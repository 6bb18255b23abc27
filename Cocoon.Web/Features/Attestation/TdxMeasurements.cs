using Cocoon.Shared.Attestation;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Web.Features.Attestation;

/// <summary>The allow-list of TD measurement sets, kept by admins.</summary>
public sealed class TdxMeasurements(CocoonDbContext db, TimeProvider clock, ILogger<TdxMeasurements> logger)
{
    public async Task<IReadOnlyList<TdxMeasurementSetView>> ListAsync(CancellationToken cancellationToken)
    {
        var sets = await db.Set<TdxMeasurementSet>().AsNoTracking().OrderBy(m => m.AddedAt)
            .Select(m => new { Set = m, AddedBy = db.Set<Account>().Where(a => a.Id == m.AddedByAccountId).Select(a => a.FriendlyAddress).FirstOrDefault() })
            .ToListAsync(cancellationToken);
        return [.. sets.Select(s => View(s.Set, s.AddedBy))];
    }

    public async Task<IReadOnlyList<TdxMeasurementSet>> AllowedAsync(CancellationToken cancellationToken) =>
        await db.Set<TdxMeasurementSet>().AsNoTracking().ToListAsync(cancellationToken);

    /// <summary>
    /// The allowed set every register of <paramref name="quote"/> equals. When none does, the refusal
    /// names the closest set and the registers that differ, so an operator knows what changed
    /// (RTMR1/2: boot loader, kernel or command line; RTMR3: what the image extends at run time).
    /// </summary>
    /// <exception cref="AttestationException">No allowed set matches.</exception>
    public static TdxMeasurementSet Match(IReadOnlyList<TdxMeasurementSet> allowed, TdxQuote quote)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        var registers = TdxMeasurementSet.Registers(quote);
        TdxMeasurementSet? closest = null;
        string[] closestDiffers = [];
        foreach (var set in allowed)
        {
            var mine = set.Registers();
            string[] differs = [.. Enumerable.Range(0, registers.Length).Where(i => mine[i] != registers[i]).Select(i => TdxMeasurementSet.RegisterNames[i])];
            if (differs.Length == 0)
            {
                return set;
            }

            if (mine[0] == registers[0] && (closest is null || differs.Length < closestDiffers.Length))
            {
                (closest, closestDiffers) = (set, differs);
            }
        }

        throw closest is null
            ? new AttestationException($"its TD measurement (MRTD {registers[0]}) is not on this portal's allow-list; an admin can add the image's measurement set on Admin → TDX measurements.")
            : new AttestationException($"its firmware (MRTD) is that of the allowed image '{closest.Name}', but {string.Join(", ", closestDiffers)} differ: it booted other software on that firmware. An admin can allow this image as its own measurement set.");
    }

    /// <exception cref="InvalidMeasurementException">A register that is not 48 bytes of hex, no name, an unreadable quote, or a set already allowed.</exception>
    public async Task<TdxMeasurementSetView> AddAsync(AddTdxMeasurementSetRequest request, Guid byAccountId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = (request.Name ?? "").Trim();
        var note = string.IsNullOrWhiteSpace(request.Note) ? null : request.Note.Trim();
        if (name.Length is 0 or > 100)
        {
            throw new InvalidMeasurementException("Name the image this set measures, in 1 to 100 characters.");
        }

        if (note is { Length: > 1000 })
        {
            throw new InvalidMeasurementException("Keep the note under 1000 characters.");
        }

        var registers = request.Quote is { Length: > 0 } quote ? FromQuote(quote) : FromFields(request);
        var set = new TdxMeasurementSet
        {
            Id = Guid.CreateVersion7(),
            Name = name,
            Note = note,
            Mrtd = registers[0],
            Rtmr0 = registers[1],
            Rtmr1 = registers[2],
            Rtmr2 = registers[3],
            Rtmr3 = registers[4],
            MrConfigId = registers[5],
            MrOwner = registers[6],
            MrOwnerConfig = registers[7],
            AddedByAccountId = byAccountId,
            AddedAt = clock.GetUtcNow(),
        };
        if (await db.Set<TdxMeasurementSet>().AnyAsync(m => m.Mrtd == set.Mrtd && m.Rtmr0 == set.Rtmr0 && m.Rtmr1 == set.Rtmr1 && m.Rtmr2 == set.Rtmr2
            && m.Rtmr3 == set.Rtmr3 && m.MrConfigId == set.MrConfigId && m.MrOwner == set.MrOwner && m.MrOwnerConfig == set.MrOwnerConfig, cancellationToken))
        {
            throw new InvalidMeasurementException("This measurement set is already allowed.");
        }

        db.Add(set);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            throw new InvalidMeasurementException("This measurement set is already allowed.");
        }
        logger.LogWarning("TDX measurement set {Name} (MRTD {Mrtd}) allowed by account {Account}", name, set.Mrtd, byAccountId);
        return View(set, null);
    }

    /// <summary>
    /// Removes a set. Agents attested with it lose their enclave key at once, so no grant made to them
    /// is used again; they are refused when they reconnect with the same image.
    /// </summary>
    public async Task<bool> RemoveAsync(Guid id, Guid byAccountId, CancellationToken cancellationToken)
    {
        var set = await db.Set<TdxMeasurementSet>().SingleOrDefaultAsync(m => m.Id == id, cancellationToken);
        if (set is null)
        {
            return false;
        }

        // Agents first: the set is their foreign key, so a registration that matched it while it goes fails rather than keeping it.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var agents = await db.Agents.Where(a => a.MeasurementSetId == id)
            .ExecuteUpdateAsync(s => s
                .SetProperty(a => a.EnclavePublicKey, (byte[]?)null)
                .SetProperty(a => a.EvidenceKind, (EvidenceKind?)null)
                .SetProperty(a => a.EvidenceStatement, (byte[]?)null)
                .SetProperty(a => a.MeasurementSetId, (Guid?)null)
                .SetProperty(a => a.TcbStatus, (string?)null)
                .SetProperty(a => a.AttestedAt, (DateTimeOffset?)null), cancellationToken);
        db.Remove(set);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogWarning("TDX measurement set {Name} (MRTD {Mrtd}) removed from the allow-list by account {Account}; {Agents} agent(s) lost their attestation",
            set.Name, set.Mrtd, byAccountId, agents);
        return true;
    }

    private static string[] FromFields(AddTdxMeasurementSetRequest request)
    {
        string?[] given = [request.Mrtd, request.Rtmr0, request.Rtmr1, request.Rtmr2, request.Rtmr3, request.MrConfigId, request.MrOwner, request.MrOwnerConfig];
        var registers = new string[given.Length];
        for (var i = 0; i < given.Length; i++)
        {
            var value = (given[i] ?? "").Trim().ToLowerInvariant();
            if (value.Length == 0 && i >= 5)
            {
                value = TdxMeasurementSet.Unset;
            }

            if (value.Length != 96 || !value.All(char.IsAsciiHexDigit))
            {
                throw new InvalidMeasurementException(i < 5
                    ? $"{TdxMeasurementSet.RegisterNames[i]} is required: 48 bytes, 96 hex digits, as the image's quote reports it (MRTD and RTMR0–3 together measure the whole guest)."
                    : $"{TdxMeasurementSet.RegisterNames[i]} is 48 bytes, 96 hex digits; leave it empty when the image's host does not set it.");
            }

            registers[i] = value;
        }

        return registers;
    }

    private static string[] FromQuote(string text)
    {
        byte[] raw;
        try
        {
            var trimmed = text.Trim();
            raw = trimmed.All(char.IsAsciiHexDigit) ? Convert.FromHexString(trimmed) : Convert.FromBase64String(trimmed);
        }
        catch (FormatException)
        {
            throw new InvalidMeasurementException("The reference quote must be hex or base64, as the image's agent printed it.");
        }

        try
        {
            var quote = TdxQuote.Parse(raw);
            if ((quote.TdAttributes[0] & 1) != 0)
            {
                throw new InvalidMeasurementException("The reference quote comes from a debug TD; allow the measurements of the production image.");
            }

            return TdxMeasurementSet.Registers(quote);
        }
        catch (AttestationException ex)
        {
            throw new InvalidMeasurementException($"The reference quote does not parse: {ex.Message}");
        }
    }

    private static TdxMeasurementSetView View(TdxMeasurementSet s, string? addedBy) => new(
        s.Id, s.Name, s.Note, s.Mrtd, s.Rtmr0, s.Rtmr1, s.Rtmr2, s.Rtmr3,
        Shown(s.MrConfigId), Shown(s.MrOwner), Shown(s.MrOwnerConfig), addedBy, s.AddedAt);

    private static string? Shown(string register) => register == TdxMeasurementSet.Unset ? null : register;
}
