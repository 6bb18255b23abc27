using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Cocoon.Shared.Jobs;
using Cocoon.Web.Features.Jobs;
using Cocoon.Web.Features.Ledger;
using Cocoon.Web.Features.Money;
using Cocoon.Web.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cocoon.Benchmarks;

/// <summary>
/// The agent simulator's load run: the real portal (Release, PostgreSQL, Hangfire, SignalR) and N
/// agents speaking the real protocol (real pairings, SignalR clients, leases), each with a behaviour:
/// honest, slow, failing, lying (a made-up digest), vanishing (drops its connection holding a lease and
/// never returns) or reconnecting (drops it and comes back). Several accounts with different fair-share
/// weights each run a job of tiny matrix units while watchers load the job pages. At the end the
/// database is checked: every unit done exactly once and paid once, every hold released, the liars
/// caught by canaries; and the accounts' shares of the running units, compared with their weights.
/// Beside it, in the same run, a plain Hangfire.PostgreSql queue draining no-op jobs.
/// </summary>
public static class SimulateRun
{
    private enum Behaviour { Honest, Slow, Failing, Lying, Vanishing, Reconnecting }

    private const long Price = 1000 * Ton.Nano;

    public static async Task<int> RunAsync(int agentCount, int units, int watcherCount)
    {
        var c = CultureInfo.InvariantCulture;
        var postgres = new PostgresFixture();
        await postgres.InitializeAsync();
        try
        {
            var raw = await HangfireDrain.JobsPerSecondAsync(await postgres.CreateDatabaseAsync("bench_hangfire_drain"), 2000);
            var db = await postgres.CreateDatabaseAsync("bench_simulate");
            await using var portal = await PortalProcess.StartAsync(db, FreePort.Next(), "bench-simulate", new Dictionary<string, string>
            {
                ["Cocoon__Money__DefaultPricePerTflop"] = Price.ToString(c),
                ["Cocoon__Jobs__CanaryPercent"] = "10",
                ["Logging__LogLevel__Default"] = "Warning",
            });

            // The fleet: 70 % honest, then 10 % slow and 4 % each of the rest.
            var behaviours = Enumerable.Range(0, agentCount).Select(i => (i % 25) switch
            {
                < 18 => Behaviour.Honest,
                < 21 => i % 2 == 0 ? Behaviour.Slow : Behaviour.Honest,
                21 => Behaviour.Failing,
                22 => Behaviour.Lying,
                23 => Behaviour.Vanishing,
                _ => Behaviour.Reconnecting,
            }).ToArray();
            var pairing = Stopwatch.StartNew();
            // Paired 20 at a time: each pairing waits out the device flow's polling interval.
            var fleet = new List<(ScriptedAgent Agent, Behaviour Behaviour)>();
            foreach (var batch in Enumerable.Range(0, agentCount).Chunk(20))
            {
                var started = await Task.WhenAll(batch.Select(i => ScriptedAgent.StartAsync(portal, $"sim-{behaviours[i].ToString().ToLowerInvariant()}-{i}", capacity: 2, heartbeat: TimeSpan.FromSeconds(5))));
                fleet.AddRange(started.Select((agent, k) => (agent, behaviours[batch[k]])));
            }

            await portal.WaitForAgentsOnlineAsync(agentCount);
            pairing.Stop();

            // Accounts with weights 1, 1, 2 and 4, each funded and running one job of tiny units.
            int[] weights = [1, 1, 2, 4];
            var developers = new List<(HttpClient Http, Guid AccountId, int Weight)>();
            foreach (var weight in weights)
            {
                var http = await portal.SignInAsync(new TestWallet());
                var id = (await http.GetFromJsonAsync<JsonElement>("api/auth/me")).GetProperty("id").GetGuid();
                (await portal.Http.PutAsJsonAsync($"api/admin/accounts/{id}/share", new { weight })).EnsureSuccessStatusCode();
                await using (var ledger = PortalDb.Open(db))
                {
                    await using var tx = await ledger.Database.BeginTransactionAsync();
                    await Deposits.CreditAsync(ledger, id, 20 * Ton.Nano, $"sim-deposit-{id}", "deposit", DateTimeOffset.UtcNow, CancellationToken.None);
                    await tx.CommitAsync();
                }

                developers.Add((http, id, weight));
            }

            using var stop = new CancellationTokenSource();
            var gone = new ConcurrentBag<Guid>();
            var workers = fleet.Select((f, i) => Task.Run(() => ServeAsync(f.Agent, f.Behaviour, new Random(i), gone, stop.Token))).ToList();

            var perJob = units / developers.Count;
            var clock = Stopwatch.StartNew();
            var jobs = new List<Guid>();
            foreach (var (http, _, _) in developers)
            {
                var response = await http.PostAsJsonAsync("api/jobs", new CreateJobRequest
                {
                    Name = "simulated",
                    MatrixSize = 2,
                    MatrixCount = perJob,
                    MatricesPerUnit = 1,
                    Budget = (10 * Ton.Nano).ToString(c),
                }, PortalProcess.Json);
                jobs.Add((await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JobView>(PortalProcess.Json))!.Id);
            }

            // Watchers load the job pages (server-rendered, as a browser's first request is) once a second.
            var pageTimes = new ConcurrentBag<double>();
            var watchers = Enumerable.Range(0, watcherCount).Select(w => Task.Run(async () =>
            {
                var (http, _, _) = developers[w % developers.Count];
                var job = jobs[w % jobs.Count];
                while (!stop.IsCancellationRequested)
                {
                    var started = Stopwatch.GetTimestamp();
                    using var page = await http.GetAsync($"jobs/{job}");
                    pageTimes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    await Task.Delay(1000, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            })).ToList();

            // Shares: while every account still has pending units, how many units each runs.
            var samples = developers.ToDictionary(d => d.AccountId, _ => new List<int>());
            var sampling = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await using var ledger = PortalDb.Open(db);
                    var rows = await ledger.WorkUnits.AsNoTracking()
                        .Where(u => jobs.Contains(u.JobId))
                        .GroupBy(u => u.Job!.OwnerAccountId)
                        .Select(g => new { Account = g.Key, Running = g.Count(u => u.State == WorkUnitState.Leased || u.State == WorkUnitState.Running), Pending = g.Count(u => u.State == WorkUnitState.Pending) })
                        .ToListAsync();
                    if (rows.Count == developers.Count && rows.All(r => r.Pending > 0) && rows.Sum(r => r.Running) > 0)
                    {
                        foreach (var row in rows)
                        {
                            samples[row.Account!.Value].Add(row.Running);
                        }
                    }

                    await Task.Delay(250, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            });

            var states = new List<JobView>();
            foreach (var job in jobs)
            {
                states.Add(await portal.WaitForJobAsync(job, TimeSpan.FromMinutes(30)));
            }

            clock.Stop();
            await stop.CancelAsync();
            await Task.WhenAll(workers.Concat(watchers).Append(sampling));

            // The books: every unit once, paid once, holds released; liars caught.
            await using var check = PortalDb.Open(db);
            var unitRows = await check.WorkUnits.AsNoTracking().Where(u => jobs.Contains(u.JobId)).Select(u => new { u.Id, u.State }).ToListAsync();
            var succeededLeases = await check.Leases.AsNoTracking().Where(l => l.Outcome == LeaseOutcome.Succeeded).GroupBy(l => l.WorkUnitId).Select(g => new { Unit = g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Unit, g => g.Count);
            var settlements = await check.Set<LedgerTransaction>().AsNoTracking().Where(t => t.Kind == "settle").Select(t => t.Reference).ToListAsync();
            var notDone = unitRows.Count(u => u.State != WorkUnitState.Succeeded);
            var notExactlyOnce = unitRows.Count(u => succeededLeases.GetValueOrDefault(u.Id) != 1);
            var paidTwice = settlements.GroupBy(r => r).Count(g => g.Count() > 1);
            var unpaid = unitRows.Count(u => !settlements.Contains($"unit:{u.Id}"));
            var held = 0L;
            foreach (var (http, _, _) in developers)
            {
                held += long.Parse((await http.GetFromJsonAsync<BalanceView>("api/account/balance"))!.Held, c);
            }

            var agents = (await portal.Http.GetFromJsonAsync<IReadOnlyList<Shared.Agents.AgentView>>("api/agents", PortalProcess.Json))!.ToDictionary(a => a.Id);
            var liars = fleet.Where(f => f.Behaviour == Behaviour.Lying).Select(f => f.Agent.Id).ToList();
            var honest = fleet.Where(f => f.Behaviour == Behaviour.Honest).Select(f => f.Agent.Id).ToList();
            var disputes = await check.Set<Dispute>().AsNoTracking().GroupBy(d => d.AgentId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count);
            var liarsCaught = liars.Count(l => disputes.ContainsKey(l));
            var liarsQuarantined = await check.Agents.CountAsync(a => liars.Contains(a.Id) && a.QuarantinedAt != null);
            var wronglyAccused = disputes.Keys.Count(a => !liars.Contains(a));
            double Reputation(IEnumerable<Guid> ids) => ids.Where(agents.ContainsKey).Select(id => agents[id].Reputation).DefaultIfEmpty(double.NaN).Average();

            var times = pageTimes.Order().ToArray();
            double Percentile(double p) => times.Length == 0 ? double.NaN : times[Math.Min(times.Length - 1, (int)(p * times.Length))];
            var rate = units / clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(c, $"{Environment.ProcessorCount} cores; {agentCount} simulated agents × capacity 2 ({string.Join(", ", behaviours.GroupBy(b => b).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"))}); paired and online in {pairing.Elapsed.TotalSeconds:N0} s"));
            Console.WriteLine("| measure | value |");
            Console.WriteLine("|---|---:|");
            Console.WriteLine(string.Create(c, $"| {unitRows.Count:N0} units in {jobs.Count} jobs ({string.Join(", ", states.Select(s => s.State))}) | {clock.Elapsed.TotalSeconds:N1} s, {rate:N0} units/s |"));
            Console.WriteLine(string.Create(c, $"| raw Hangfire.PostgreSql no-op drain, same run | {raw:N0} jobs/s (dispatch ÷ raw = {rate / raw:N2}) |"));
            Console.WriteLine(string.Create(c, $"| units not done / not exactly once / paid twice / unpaid | {notDone} / {notExactlyOnce} / {paidTwice} / {unpaid} |"));
            Console.WriteLine(string.Create(c, $"| nanotons still held after the jobs ended | {held} |"));
            Console.WriteLine(string.Create(c, $"| liars with a dispute / quarantined / of | {liarsCaught} / {liarsQuarantined} / {liars.Count}; honest agents accused: {wronglyAccused} |"));
            Console.WriteLine(string.Create(c, $"| reputation: liars / honest (mean) | {Reputation(liars):P0} / {Reputation(honest):P0} |"));
            Console.WriteLine(string.Create(c, $"| {watcherCount} watchers, job page p50 / p99 ({times.Length:N0} loads) | {Percentile(0.5):N0} / {Percentile(0.99):N0} ms |"));
            var totalWeight = developers.Sum(d => d.Weight);
            var sampleCount = samples.Values.Min(s => s.Count);
            var worst = 0.0;
            foreach (var (_, account, weight) in developers)
            {
                var observed = samples[account].Sum() / (double)Math.Max(1, samples.Values.Sum(s => s.Sum()));
                var expected = weight / (double)totalWeight;
                worst = Math.Max(worst, Math.Abs(observed - expected) / expected);
                Console.WriteLine(string.Create(c, $"| share of running units, weight {weight} ({sampleCount} samples while all had pending) | {observed:P1} (fair: {expected:P1}) |"));
            }

            Console.WriteLine(string.Create(c, $"| worst share deviation from fair | {worst:P1} |"));
            foreach (var (agent, _) in fleet)
            {
                await agent.DisposeAsync();
            }

            return notDone == 0 && notExactlyOnce == 0 && paidTwice == 0 && unpaid == 0 && held == 0 && liarsCaught == liars.Count && wronglyAccused == 0 ? 0 : 1;
        }
        finally
        {
            await postgres.DisposeAsync();
        }
    }

    /// <summary>One agent's loop: takes what it is given and answers as its behaviour says.</summary>
    private static async Task ServeAsync(ScriptedAgent agent, Behaviour behaviour, Random random, ConcurrentBag<Guid> gone, CancellationToken stop)
    {
        var served = 0;
        while (!stop.IsCancellationRequested)
        {
            if (await agent.TryNextAssignmentAsync(TimeSpan.FromMilliseconds(200)) is not { } assignment)
            {
                continue;
            }

            served++;
            switch (behaviour)
            {
                case Behaviour.Slow:
                    await Task.Delay(random.Next(100, 400), CancellationToken.None);
                    await agent.CompleteAsync(assignment);
                    break;
                case Behaviour.Failing when random.Next(100) < 30:
                    await agent.FailAsync(assignment.LeaseId, "simulated failure");
                    break;
                case Behaviour.Lying:
                    await agent.LieAsync(assignment);
                    break;
                case Behaviour.Vanishing when served == 5:
                    // Holds the unit and goes silent for good: the portal must notice and run it elsewhere.
                    await agent.DisconnectAsync();
                    gone.Add(agent.Id);
                    return;
                case Behaviour.Reconnecting when served % 20 == 0:
                    // Drops the connection holding this unit and comes back (a restart): the unit runs elsewhere.
                    await agent.ReconnectAsync();
                    break;
                default:
                    await agent.CompleteAsync(assignment);
                    break;
            }
        }
    }
}
