using System.Security.Cryptography;
using Cocoon.Shared.Work;
using Cocoon.Web.Features.Jobs;

namespace Cocoon.Web.Tests.Jobs;

/// <summary>The vote over a unit's copies, and the signed statement it compares.</summary>
public sealed class CopyVoteTests
{
    private const string A = "aa";
    private const string B = "bb";
    private const string C = "cc";

    [Fact]
    public void Waits_while_any_copy_is_running() =>
        Assert.Equal(CopyVote.VoteStep.Wait, CopyVote.Decide([A, null], 2).Step);

    [Fact]
    public void Two_agreeing_copies_decide() =>
        Assert.Equal((CopyVote.VoteStep.Decided, A), CopyVote.Decide([A, A], 2));

    [Fact]
    public void A_disagreement_runs_one_more_copy_and_the_majority_wins()
    {
        Assert.Equal(CopyVote.VoteStep.RunAnother, CopyVote.Decide([A, B], 2).Step);
        Assert.Equal((CopyVote.VoteStep.Decided, B), CopyVote.Decide([A, B, B], 2));
    }

    [Fact]
    public void Three_different_outputs_run_more_until_one_leads_or_the_extra_copies_are_spent()
    {
        Assert.Equal(CopyVote.VoteStep.RunAnother, CopyVote.Decide([A, B, C], 2).Step);
        Assert.Equal((CopyVote.VoteStep.Decided, C), CopyVote.Decide([A, B, C, C], 2));
        Assert.Equal(CopyVote.VoteStep.NoMajority, CopyVote.Decide([A, B, C, "dd"], 2).Step);
        Assert.Equal(CopyVote.VoteStep.NoMajority, CopyVote.Decide([A, B, A, B], 2).Step);
    }

    [Fact]
    public void Redundancy_three_decides_by_majority_and_breaks_ties_with_up_to_two_more()
    {
        Assert.Equal((CopyVote.VoteStep.Decided, A), CopyVote.Decide([A, B, A], 3));
        Assert.Equal(CopyVote.VoteStep.RunAnother, CopyVote.Decide([A, B, C], 3).Step);
        Assert.Equal(CopyVote.VoteStep.RunAnother, CopyVote.Decide([A, B, C, "dd"], 3).Step);
        Assert.Equal((CopyVote.VoteStep.Decided, B), CopyVote.Decide([A, B, C, "dd", B], 3));
    }

    [Fact]
    public void A_single_result_never_decides_alone() =>
        Assert.NotEqual(CopyVote.VoteStep.Decided, CopyVote.Decide([A], 2).Step);

    [Fact]
    public void The_digest_is_keyed_by_the_dataset_key()
    {
        var datasetKey = RandomNumberGenerator.GetBytes(32);
        var output = RandomNumberGenerator.GetBytes(100);
        Assert.Equal(OutputStatement.Digest(OutputStatement.DigestKey(datasetKey), output), OutputStatement.Digest(OutputStatement.DigestKey(datasetKey.ToArray()), output));
        Assert.NotEqual(OutputStatement.Digest(OutputStatement.DigestKey(RandomNumberGenerator.GetBytes(32)), output), OutputStatement.Digest(OutputStatement.DigestKey(datasetKey), output));
        Assert.NotEqual(Convert.ToHexStringLower(SHA256.HashData(output)), OutputStatement.Digest(OutputStatement.DigestKey(datasetKey), output));
    }

    [Fact]
    public void The_signed_statement_binds_the_lease_the_digest_and_the_key()
    {
        using var signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var lease = Guid.NewGuid();
        var key = OutputStatement.DigestKey(RandomNumberGenerator.GetBytes(32));
        var digest = OutputStatement.Digest(key, "output"u8);
        var signature = OutputStatement.Sign(signer, lease, digest);
        Assert.True(OutputStatement.Verify(signer, lease, digest, signature));
        Assert.True(OutputStatement.Verify(signer, lease, digest.ToUpperInvariant(), signature));
        Assert.False(OutputStatement.Verify(other, lease, digest, signature));
        Assert.False(OutputStatement.Verify(signer, Guid.NewGuid(), digest, signature));
        Assert.False(OutputStatement.Verify(signer, lease, OutputStatement.Digest(key, "other"u8), signature));
        Assert.False(OutputStatement.Verify(signer, lease, digest[..63], signature));
        Assert.False(OutputStatement.Verify(signer, lease, digest, signature[..63]));
        Assert.False(OutputStatement.Verify(signer, lease, null, signature));
        Assert.False(OutputStatement.Verify(signer, lease, digest, null));
    }
}
