using Cocoon.Shared.Ton;
using Cocoon.Web.Data;
using Cocoon.Web.Features.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cocoon.Web.Features.Payouts;

/// <summary>A provider's payout settings as shown: amounts in nanotons as strings.</summary>
public sealed record PayoutSettingsView(string Wallet, string WalletFriendly, string Threshold, string ThresholdTon, bool SignInWallet, DateTimeOffset? HoldUntil);

/// <summary>Where and from how much a provider is paid. A new payout wallet needs a fresh proof from it and starts a cooling-off period.</summary>
public sealed class PayoutSettingsService(IDbContextFactory<CocoonDbContext> dbFactory, IOptions<PayoutOptions> options, IOptions<Money.Chain.TonOptions> ton, TimeProvider clock)
{
    public const long MaxThreshold = 1_000_000 * Ledger.Ton.Nano;

    public async Task<PayoutSettingsView> GetAsync(Guid accountId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return View(await EffectiveAsync(db, accountId, cancellationToken));
    }

    public async Task<PayoutResult<PayoutSettingsView>> SetThresholdAsync(Guid accountId, long threshold, CancellationToken cancellationToken)
    {
        if (threshold < Ledger.Ton.Nano || threshold > MaxThreshold)
        {
            return PayoutResult.Fail<PayoutSettingsView>(StatusCodes.Status400BadRequest, "bad_threshold", $"The threshold is between 1 and {Ledger.Ton.Format(MaxThreshold)} TON.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var settings = await StoredAsync(db, accountId, cancellationToken);
        settings.Threshold = threshold;
        settings.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return PayoutResult.Done(View(settings));
    }

    /// <summary>Pays the account to a wallet it has just proven it controls, after the cooling-off period.</summary>
    public async Task<PayoutSettingsView> ChangeWalletAsync(Guid accountId, TonAddress wallet, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var settings = await StoredAsync(db, accountId, cancellationToken);
        var now = clock.GetUtcNow();
        var raw = wallet.ToRaw();
        if (raw != settings.Wallet)
        {
            PayoutAudits.Record(db, now, accountId, "wallet-changed", $"Payout wallet {Friendly(settings.Wallet)} → {Friendly(raw)}; payouts on hold until {now + options.Value.WalletCoolingOff:u}.");
            settings.Wallet = raw;
            settings.WalletChangedAt = now;
            settings.HoldUntil = now + options.Value.WalletCoolingOff;
            settings.UpdatedAt = now;
        }

        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return View(settings);
    }

    /// <summary>The settings in force: the stored row, or the defaults (the sign-in wallet, the default threshold).</summary>
    internal async Task<PayoutSettings> EffectiveAsync(CocoonDbContext db, Guid accountId, CancellationToken cancellationToken) =>
        await db.Set<PayoutSettings>().AsNoTracking().SingleOrDefaultAsync(s => s.AccountId == accountId, cancellationToken)
        ?? await DefaultsAsync(db, accountId, cancellationToken);

    private async Task<PayoutSettings> StoredAsync(CocoonDbContext db, Guid accountId, CancellationToken cancellationToken)
    {
        var settings = await db.Set<PayoutSettings>().FromSql($"SELECT * FROM payout_settings WHERE account_id = {accountId} FOR UPDATE").SingleOrDefaultAsync(cancellationToken);
        if (settings is null)
        {
            settings = await DefaultsAsync(db, accountId, cancellationToken);
            db.Add(settings);
        }

        return settings;
    }

    private async Task<PayoutSettings> DefaultsAsync(CocoonDbContext db, Guid accountId, CancellationToken cancellationToken)
    {
        var address = await db.Set<Account>().Where(a => a.Id == accountId).Select(a => a.Address).SingleAsync(cancellationToken);
        return new PayoutSettings { AccountId = accountId, Wallet = TonAddress.Parse(address).ToRaw(), Threshold = options.Value.DefaultThreshold, UpdatedAt = clock.GetUtcNow() };
    }

    private PayoutSettingsView View(PayoutSettings s) =>
        new(s.Wallet, Friendly(s.Wallet), s.Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture), Ledger.Ton.Format(s.Threshold), s.WalletChangedAt is null,
            s.HoldUntil > clock.GetUtcNow() ? s.HoldUntil : null);

    /// <summary>A wallet address as people read it: bounceable (a payout that cannot land comes back), for the configured network.</summary>
    internal string Friendly(string raw) => TonAddress.Parse(raw).ToFriendly(bounceable: true, testnet: ton.Value.Network != "mainnet");
}
