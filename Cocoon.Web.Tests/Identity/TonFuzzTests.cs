using System.Buffers.Binary;
using Cocoon.Shared.Ton;
using Cocoon.Web.Features.Identity.TonProof;

namespace Cocoon.Web.Tests.Identity;

/// <summary>
/// Mutation fuzzing of the parsers that take untrusted input: every corrupted bag of cells and every
/// tampered proof must end in a typed rejection (or, rarely, still be valid), never another exception
/// and never a hang. Seeded, so a failure reproduces.
/// </summary>
public sealed class TonFuzzTests
{
    public const int BocIterations = 20000;
    public const int ProofIterations = 10000;

    private static readonly string[] Seeds = [TonVectors.V4R2StateInit, TonVectors.ExternalMessageBoc, TonVectors.CommentBoc];

    [Fact]
    public async Task Corrupted_bags_of_cells_are_refused_with_a_code()
    {
        var outcomes = await Task.Run(() =>
        {
            var mutator = new Mutator(20261124);
            var (accepted, refused) = (0, 0);
            for (var i = 0; i < BocIterations; i++)
            {
                var seed = Convert.FromBase64String(Seeds[i % Seeds.Length]);
                var mutated = mutator.Mutate(seed);
                // Half the time the checksum is made right again, so the mutation reaches the parser's insides.
                if (i % 2 == 0 && mutated.Length > 8)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(mutated.AsSpan(mutated.Length - 4), TonChecksums.Crc32C(mutated.AsSpan(0, mutated.Length - 4)));
                }

                try
                {
                    var roots = BagOfCells.Parse(mutated, BagOfCellsLimits.StateInit);
                    _ = StateInit.FromCell(roots[0]);
                    accepted++;
                }
                catch (TonFormatException ex)
                {
                    Assert.False(string.IsNullOrEmpty(ex.Code));
                    Assert.False(string.IsNullOrEmpty(ex.Message));
                    refused++;
                }
            }

            return (accepted, refused);
        }).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.Equal(BocIterations, outcomes.accepted + outcomes.refused);
        Assert.True(outcomes.refused > BocIterations / 2, $"most mutations should be refused ({outcomes.refused} of {BocIterations})");
    }

    [Fact]
    public async Task Tampered_proofs_are_refused_with_a_code()
    {
        var verifier = TonProofVerifierTests.Verifier(DateTimeOffset.FromUnixTimeSeconds(TonVectors.Timestamp + 30));
        var codes = await Task.Run(() =>
        {
            var mutator = new Mutator(7);
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < ProofIterations; i++)
            {
                try
                {
                    verifier.Verify(Tamper(mutator, TonVectors.V4R2Proof()));
                    seen["accepted"] = seen.GetValueOrDefault("accepted") + 1;
                }
                catch (TonProofException ex)
                {
                    seen[ex.Code] = seen.GetValueOrDefault(ex.Code) + 1;
                    Assert.True(ex.Status is 400 or 401);
                }
            }

            return seen;
        }).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.Equal(ProofIterations, codes.Values.Sum());
        foreach (var code in new[] { "bad_signature", "bad_boc", "domain_mismatch", "wrong_network", "expired", "bad_request" })
        {
            Assert.True(codes.ContainsKey(code), $"the fuzzer never produced {code}: {string.Join(", ", codes)}");
        }
    }

    internal static TonProofRequest Tamper(Mutator mutator, TonProofRequest proof)
    {
        var random = mutator.Random;
        var item = proof.Proof!;
        string MutateText(string? text) => text is null ? "" : System.Text.Encoding.UTF8.GetString(mutator.Mutate(System.Text.Encoding.UTF8.GetBytes(text)));
        string MutateBase64(string text) => Convert.ToBase64String(mutator.Mutate(Convert.FromBase64String(text)));
        return random.Next(11) switch
        {
            0 => proof with { Address = MutateText(proof.Address) },
            1 => proof with { Network = random.Next(3) switch { 0 => "-3", 1 => "0", _ => MutateText(proof.Network) } },
            2 => proof with { PublicKey = MutateText(proof.PublicKey) },
            3 => proof with { Proof = item with { Timestamp = random.Next(4) switch { 0 => long.MinValue, 1 => long.MaxValue, 2 => 0, _ => item.Timestamp + random.Next(-5000, 5000) } } },
            4 => proof with { Proof = item with { Domain = item.Domain! with { Value = MutateText(item.Domain.Value) } } },
            5 => proof with { Proof = item with { Domain = item.Domain! with { LengthBytes = (uint)random.Next() } } },
            6 => proof with { Proof = item with { Payload = MutateText(item.Payload) } },
            7 => proof with { Proof = item with { Signature = MutateBase64(item.Signature!) } },
            8 => proof with { Proof = item with { StateInit = MutateBase64(item.StateInit!) } },
            9 => proof with { Proof = item with { StateInit = random.Next(2) == 0 ? MutateText(item.StateInit) : "" } },
            _ => proof with { Proof = random.Next(2) == 0 ? null : item with { Domain = null } },
        };
    }
}
