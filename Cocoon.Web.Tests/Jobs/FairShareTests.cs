using Cocoon.Web.Features.Jobs;

namespace Cocoon.Web.Tests.Jobs;

/// <summary>
/// The weighted fair share of free dispatch slots: equal weights split evenly whatever the queues'
/// sizes, weights split in proportion, units already running count, limits cap, each account's own
/// order is kept, and ties go to the unit that waited longest.
/// </summary>
public sealed class FairShareTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);

    private static readonly Guid A = new("aaaaaaaa-0000-0000-0000-000000000000");

    private static readonly Guid B = new("bbbbbbbb-0000-0000-0000-000000000000");

    private static readonly Guid C = new("cccccccc-0000-0000-0000-000000000000");

    /// <summary><paramref name="count"/> units of <paramref name="account"/>, queued a second apart from <paramref name="from"/> seconds.</summary>
    private static List<FairShare.Candidate> Units(Guid account, int count, int from = 0) =>
        [.. Enumerable.Range(0, count).Select(i => new FairShare.Candidate(Unit(account, i), account, T0.AddSeconds(from + i)))];

    private static Guid Unit(Guid account, int index) => new(account.ToByteArray()[..12].Concat(BitConverter.GetBytes(index)).ToArray());

    private static Dictionary<Guid, int> Counts(IEnumerable<Guid> chosen, params Guid[] accounts) =>
        accounts.ToDictionary(a => a, a => chosen.Count(u => u.ToByteArray().AsSpan(0, 12).SequenceEqual(a.ToByteArray().AsSpan(0, 12))));

    [Fact]
    public void A_big_queue_does_not_starve_a_small_one()
    {
        // A queued a million-unit job's first thousand long before B's ten.
        var chosen = FairShare.Allocate([.. Units(A, 1000), .. Units(B, 10, from: 5000)], new Dictionary<Guid, FairShare.Standing>(), 8);

        Assert.Equal(new Dictionary<Guid, int> { [A] = 4, [B] = 4 }, Counts(chosen, A, B));

        // Turn by turn, the older unit first on a tie.
        Assert.Equal([Unit(A, 0), Unit(B, 0), Unit(A, 1), Unit(B, 1)], chosen.Take(4));
    }

    [Theory]
    [InlineData(3, 8, 2, 6)]
    [InlineData(3, 4, 1, 3)]
    [InlineData(100, 101, 1, 100)]
    public void Free_slots_go_in_proportion_to_weights(int weightOfB, int free, int toA, int toB)
    {
        var standings = new Dictionary<Guid, FairShare.Standing> { [B] = new(0, weightOfB, null) };

        var chosen = FairShare.Allocate([.. Units(A, 200), .. Units(B, 200, from: 1000)], standings, free);

        Assert.Equal(new Dictionary<Guid, int> { [A] = toA, [B] = toB }, Counts(chosen, A, B));
    }

    [Fact]
    public void Units_already_running_count_toward_the_share()
    {
        // A runs 5 already, B 1: the next four slots bring B level with A first, then they alternate.
        var standings = new Dictionary<Guid, FairShare.Standing> { [A] = new(5, 1, null), [B] = new(1, 1, null) };

        var chosen = FairShare.Allocate([.. Units(A, 50), .. Units(B, 50)], standings, 6);

        Assert.Equal(new Dictionary<Guid, int> { [A] = 1, [B] = 5 }, Counts(chosen, A, B));
        Assert.Equal([Unit(B, 0), Unit(B, 1), Unit(B, 2), Unit(B, 3), Unit(A, 0), Unit(B, 4)], chosen);
    }

    [Fact]
    public void An_account_at_its_limit_gets_no_more_and_its_slots_go_to_others()
    {
        var standings = new Dictionary<Guid, FairShare.Standing> { [A] = new(1, 10, 3), [C] = new(0, 1, 0) };

        var chosen = FairShare.Allocate([.. Units(A, 50), .. Units(B, 50), .. Units(C, 50)], standings, 10);

        // A's weight would take most of the ten; its limit of 3 (one running) leaves it two; C's limit is 0.
        Assert.Equal(new Dictionary<Guid, int> { [A] = 2, [B] = 8, [C] = 0 }, Counts(chosen, A, B, C));
    }

    [Fact]
    public void Each_account_keeps_its_own_order_and_nothing_is_given_twice()
    {
        // The candidates of an account arrive in its order (priority first), which may not be age order.
        List<FairShare.Candidate> a = [.. Units(A, 5).AsEnumerable().Reverse()];

        var chosen = FairShare.Allocate([.. a, .. Units(B, 2)], new Dictionary<Guid, FairShare.Standing>(), 100);

        Assert.Equal(7, chosen.Count);
        Assert.Equal(7, chosen.Distinct().Count());
        Assert.Equal(a.Select(c => c.UnitId), chosen.Where(u => Counts([u], A)[A] == 1));
    }

    [Fact]
    public void Nothing_to_give_or_nothing_waiting_chooses_nothing()
    {
        Assert.Empty(FairShare.Allocate(Units(A, 3), new Dictionary<Guid, FairShare.Standing>(), 0));
        Assert.Empty(FairShare.Allocate([], new Dictionary<Guid, FairShare.Standing>(), 10));
    }

    [Fact]
    public void Thousands_of_accounts_get_one_slot_each_before_any_gets_two()
    {
        var accounts = Enumerable.Range(1, 2000).Select(i => new Guid(i, 0, 0, new byte[8])).ToList();
        var candidates = accounts.SelectMany((account, i) => Enumerable.Range(0, 3).Select(k => new FairShare.Candidate(Guid.NewGuid(), account, T0.AddSeconds(i + k)))).ToList();

        var chosen = FairShare.Allocate(candidates, new Dictionary<Guid, FairShare.Standing>(), 2500);

        var owner = candidates.ToDictionary(c => c.UnitId, c => c.AccountId);
        var per = chosen.GroupBy(u => owner[u]).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(2000, per.Count);
        Assert.Equal(500, per.Count(p => p.Value == 2));
    }
}
