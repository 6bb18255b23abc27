using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Cocoon.Web.Data;
using Cocoon.Web.Hosting;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Cocoon.Web.Features.Ledger;

/// <summary>
/// <c>Cocoon.Web ledger verify</c>: the hash-chain and balance check of the admin's Ledger page, from a
/// shell, against the database named by <c>ConnectionStrings:Cocoon</c> (environment or
/// <c>--ConnectionStrings:Cocoon=…</c>). Exit 0 when the books hold, 1 when they do not, 2 when the
/// check could not run. Reads only; it neither migrates nor starts anything.
/// </summary>
public static class LedgerCommand
{
    private const string Usage = "usage: Cocoon.Web ledger verify [--json] [--ConnectionStrings:Cocoon=<connection string>]";

    public static bool Handles(string[] args) => args is ["ledger", ..];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args is not ["ledger", "verify", .. var rest])
        {
            await error.WriteLineAsync($"cocoon: unknown ledger command; {Usage}");
            return 2;
        }

        var json = rest.Contains("--json");
        var configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables()
            .AddCommandLine(rest.Where(a => a != "--json").ToArray())
            .Build();
        var connectionString = configuration.GetConnectionString(DatabaseSetup.ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await error.WriteLineAsync($"cocoon: ledger verify needs the portal's database: set ConnectionStrings__Cocoon; {Usage}");
            return 2;
        }

        LedgerCheck check;
        try
        {
            await using var db = new CocoonDbContext(CocoonDatabase.Configure(new DbContextOptionsBuilder<CocoonDbContext>(), connectionString).Options);
            check = await new LedgerVerifier(db).VerifyAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException or ArgumentException or InvalidOperationException)
        {
            await error.WriteLineAsync($"cocoon: cannot read the ledger: {ex.GetBaseException().Message}");
            return 2;
        }

        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(new
            {
                holds = check.Holds,
                entries = check.Entries,
                chainIntact = check.ChainIntact,
                firstBrokenSeq = check.FirstBrokenSeq,
                trialBalance = check.TrialBalance.ToString(CultureInfo.InvariantCulture),
                unbalancedTransactions = check.UnbalancedTransactions,
                mismatchedAccounts = check.MismatchedAccounts,
            }));
        }
        else
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Entries read:        {check.Entries:N0}"));
            await output.WriteLineAsync(check.ChainIntact ? "Hash chain:          intact" : $"Hash chain:          BROKEN at entry {check.FirstBrokenSeq}");
            await output.WriteLineAsync($"Trial balance:       {Ton.Format(check.TrialBalance)} TON{(check.TrialBalance == 0 ? "" : " (must be 0)")}");
            await output.WriteLineAsync($"Unbalanced:          {(check.UnbalancedTransactions.Count == 0 ? "none" : string.Join(", ", check.UnbalancedTransactions))}");
            await output.WriteLineAsync($"Balances off:        {(check.MismatchedAccounts.Count == 0 ? "none" : string.Join(", ", check.MismatchedAccounts))}");
            await output.WriteLineAsync(check.Holds ? "The books hold." : "The books do NOT hold.");
        }

        return check.Holds ? 0 : 1;
    }
}
