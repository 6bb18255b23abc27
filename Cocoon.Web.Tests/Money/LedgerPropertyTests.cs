using Cocoon.Web.Features.Ledger;
using Cocoon.Web.Features.Money;
using Cocoon.Web.Tests.Infrastructure;
using CsCheck;
using Microsoft.EntityFrameworkCore;
using LedgerBook = Cocoon.Web.Features.Ledger.Ledger;

namespace Cocoon.Web.Tests.Money;

/// <summary>
/// Random interleavings of deposits, submissions, unit results (repeated ones too), failures, budget
/// raises and job ends against real PostgreSQL, checked after each run against a model of what should have moved:
/// every transaction sums to zero, no balance is negative, every ended job's hold is released, and
/// providers earn exactly what their units cost.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Integration")]
public sealed class LedgerPropertyTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    /// <summary>One step: a kind (0 deposit, 1 submit, 2 unit succeeds, 3 the same result again, 4 unit fails, 5 job ends or is cancelled, 6 budget raised), whose, and how much.</summary>
    private sealed record Step(int Kind, int Who, int Amount);

    [Fact]
    public async Task Random_interleavings_keep_the_books()
    {
        var connection = await postgres.CreateDatabaseAsync("ledger_properties");
        await using (var db = PortalDb.Open(connection))
        {
            await db.Database.MigrateAsync();
        }

        var steps = Gen.Select(Gen.Int[0, 6], Gen.Int[0, 2], Gen.Int[1, 40], (kind, who, amount) => new Step(kind, who, amount)).Array[5, 40];
        await steps.SampleAsync(async run => await RunAsync(connection, run), iter: 30, threads: 1);

        await using var check = PortalDb.Open(connection);
        var verified = await new LedgerVerifier(check).VerifyAsync(CancellationToken.None);
        Assert.True(verified.Holds, verified.ToString());
    }

    private static async Task RunAsync(string connection, Step[] run)
    {
        var developers = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid()).ToArray();
        var providers = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid()).ToArray();
        var available = new long[3];
        var earned = new long[3];
        var jobs = new List<(BilledJob Job, int Developer, long Remaining, List<BilledUnit> Settled, bool Ended)>();
        var deposits = 0;

        foreach (var step in run)
        {
            var amount = step.Amount * (Ton.Nano / 10);
            switch (step.Kind)
            {
                case 0:
                    await LedgerDatabaseTests.RunAsync(connection, db => Deposits.CreditAsync(db, developers[step.Who], amount, $"{developers[step.Who]}-{deposits++}", "deposit", Now, CancellationToken.None));
                    available[step.Who] += amount;
                    break;
                case 1:
                    var job = new BilledJob(Guid.NewGuid(), "job", developers[step.Who], amount);
                    try
                    {
                        await LedgerDatabaseTests.RunAsync(connection, async db =>
                        {
                            await Billing.HoldAsync(db, job, Now, CancellationToken.None);
                            return true;
                        });
                        Assert.True(amount <= available[step.Who], "a hold larger than the balance was placed");
                        available[step.Who] -= amount;
                        jobs.Add((job, step.Who, amount, [], false));
                    }
                    catch (InsufficientFundsException ex)
                    {
                        Assert.True(amount > available[step.Who], "a hold the balance covers was refused");
                        Assert.Equal(amount - available[step.Who], ex.Shortfall);
                    }

                    break;
                case 2 or 3 when jobs.Count > 0:
                    var index = step.Who % jobs.Count;
                    var (j, developer, remaining, settled, ended) = jobs[index];
                    var cost = Math.Min(step.Amount * (Ton.Nano / 100), remaining * 10 / 11);
                    var fee = cost / 10;
                    if (ended || cost <= 0)
                    {
                        break;
                    }

                    var unit = step.Kind == 3 && settled.Count > 0 ? settled[^1] : new BilledUnit(Guid.NewGuid(), settled.Count);
                    var provider = step.Amount % 3;
                    await LedgerDatabaseTests.RunAsync(connection, async db =>
                    {
                        await Billing.SettleAsync(db, j, unit, new RegisteredAgentOwner(Guid.NewGuid(), "agent", providers[provider]), cost, fee, Now, CancellationToken.None);
                        return true;
                    });
                    if (step.Kind == 2 || settled.Count == 0)
                    {
                        // A repeated result (a superseded lease's) settles nothing.
                        earned[provider] += cost;
                        settled.Add(unit);
                        jobs[index] = (j, developer, remaining - cost - fee, settled, ended);
                    }

                    break;
                case 5 when jobs.Count > 0:
                    var end = step.Who % jobs.Count;
                    if (!jobs[end].Ended)
                    {
                        await LedgerDatabaseTests.RunAsync(connection, async db =>
                        {
                            await Billing.ReleaseAsync(db, jobs[end].Job, Now, CancellationToken.None);
                            return true;
                        });
                        available[jobs[end].Developer] += jobs[end].Remaining;
                        jobs[end] = jobs[end] with { Remaining = 0, Ended = true };
                    }

                    break;
                case 6 when jobs.Count > 0:
                    var raise = step.Who % jobs.Count;
                    if (jobs[raise].Ended)
                    {
                        break;
                    }

                    var owner = jobs[raise].Developer;
                    try
                    {
                        await LedgerDatabaseTests.RunAsync(connection, async db =>
                        {
                            await Billing.HoldMoreAsync(db, jobs[raise].Job, amount, Now, CancellationToken.None);
                            return true;
                        });
                        Assert.True(amount <= available[owner], "a raise larger than the balance was held");
                        available[owner] -= amount;
                        jobs[raise] = jobs[raise] with { Remaining = jobs[raise].Remaining + amount };
                    }
                    catch (InsufficientFundsException ex)
                    {
                        Assert.True(amount > available[owner], "a raise the balance covers was refused");
                        Assert.Equal(amount - available[owner], ex.Shortfall);
                    }

                    break;
            }
        }

        await using var check = PortalDb.Open(connection);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(available[i], await LedgerBook.BalanceAsync(check, LedgerAccountKind.DeveloperAvailable, developers[i], CancellationToken.None));
            Assert.Equal(jobs.Where(j => j.Developer == i).Sum(j => j.Remaining), await LedgerBook.TotalAsync(check, LedgerAccountKind.DeveloperHeld, developers[i], CancellationToken.None));
            Assert.Equal(earned[i], await LedgerBook.BalanceAsync(check, LedgerAccountKind.ProviderEarned, providers[i], CancellationToken.None));
        }

        foreach (var (job, _, remaining, _, ended) in jobs)
        {
            Assert.Equal(remaining, await Billing.HeldForJobAsync(check, job, CancellationToken.None));
            Assert.True(!ended || remaining == 0);
        }
    }
}
