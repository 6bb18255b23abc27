using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Cocoon.Shared.Ton;
using Cocoon.Web.Features.Identity;
using Cocoon.Web.Features.Identity.TonProof;
using Cocoon.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Cocoon.Benchmarks;

/// <summary>
/// What one wallet sign-in costs the portal's CPU: parsing the wallet's bag of cells, reading its key,
/// and the whole ton_proof check (including the Ed25519 verification). Inputs are the known answers
/// from ../shared/reference/ton-vectors.md.
/// </summary>
[MemoryDiagnoser]
public class WalletProofBenchmarks
{
    private const string StateInitBase64 =
        "te6cckECFgEAAwQAAgE0ARUBFP8A9KQT9LzyyAsCAgEgAxACAUgEBwLm0AHQ0wMhcbCSXwTgItdJwSCSXwTgAtMfIYIQcGx1Z70ighBkc3RyvbCSXwXgA/pAMCD6RAHIygfL/8nQ7UTQgQFA1yH0BDBcgQEI9ApvoTGzkl8H4AXTP8glghBwbHVnupI4MOMNA4IQZHN0crqSXwbjDQUGAHgB+gD0BDD4J28iMFAKoSG+8uBQghBwbHVngx6xcIAYUATLBSbPFlj6Ahn0AMtpF8sfUmDLPyDJgED7AAYAilAEgQEI9Fkw7UTQgQFA1yDIAc8W9ADJ7VQBcrCOI4IQZHN0coMesXCAGFAFywVQA88WI/oCE8tqyx/LP8mAQPsAkl8D4gIBIAgPAgEgCQ4CAVgKCwA9sp37UTQgQFA1yH0BDACyMoHy//J0AGBAQj0Cm+hMYAIBIAwNABmtznaiaEAga5Drhf/AABmvHfaiaEAQa5DrhY/AABG4yX7UTQ1wsfgAWb0kK29qJoQICga5D6AhhHDUCAhHpJN9KZEM5pA+n/mDeBKAG3gQFImHFZ8xhAT48oMI1xgg0x/TH9MfAvgju/Jk7UTQ0x/TH9P/9ATRUUO68qFRUbryogX5AVQQZPkQ8qP4ACSkyMsfUkDLH1Iwy/9SEPQAye1U+A8B0wchwACfbFGTINdKltMH1AL7AOgw4CHAAeMAIcAC4wABwAORMOMNA6TIyx8Syx/L/xESExQAbtIH+gDU1CL5AAXIygcVy//J0Hd0gBjIywXLAiLPFlAF+gIUy2sSzMzJc/sAyEAUgQEI9FHypwIAcIEBCNcY+gDTP8hUIEeBAQj0UfKnghBub3RlcHSAGMjLBcsCUAbPFlAE+gIUy2oSyx/LP8lz+wACAGyBAQjXGPoA0z8wUiSBAQj0WfKnghBkc3RycHSAGMjLBcsCUAXPFlAD+gITy2rLHxLLP8lz+wAACvQAye1UAFEAAAAAKamjF3m1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZkQCWKgG0=";

    private readonly byte[] _boc = Convert.FromBase64String(StateInitBase64);
    private TonProofVerifier _verifier = null!;
    private TonProofRequest _proof = null!;

    [GlobalSetup]
    public void Setup()
    {
        _verifier = new TonProofVerifier(
            Options.Create(new PortalOptions { PublicUrl = "https://portal.example.com" }),
            Options.Create(new WalletSignInOptions()),
            new FixedClock(DateTimeOffset.FromUnixTimeSeconds(1_700_000_030)));
        _proof = new TonProofRequest
        {
            Address = "0:e71f2b5f35e5cd52f7dd471e359e5b15a93fc3b88fd6bc5cccacd9d5afb9fc85",
            Network = "-239",
            PublicKey = "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664",
            Proof = new TonProofItem
            {
                Timestamp = 1_700_000_000,
                Domain = new TonProofDomain { LengthBytes = 18, Value = "portal.example.com" },
                Payload = "8f3c2a1b9e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605f4e3",
                Signature = "TEb8dLiUcin2QgMwQux2YuHoN+iSPDZuhtnaY+XuBhiadpDfROwT4YX7IrrI2iScdJn/vy4AiZC/1K/+qN0CBA==",
                StateInit = StateInitBase64,
            },
        };
    }

    [Benchmark(Description = "parse v4r2 state init (22 cells) + hashes")]
    public Cell ParseStateInit() => BagOfCells.ParseSingleRoot(_boc, BagOfCellsLimits.StateInit);

    [Benchmark(Description = "read the wallet key from the state init")]
    public byte[] ReadKey() => WalletContracts.ReadPublicKey(StateInit.FromCell(BagOfCells.ParseSingleRoot(_boc, BagOfCellsLimits.StateInit))).PublicKey;

    [Benchmark(Description = "whole ton_proof check (parse, key, Ed25519)")]
    public VerifiedWallet VerifyProof() => _verifier.Verify(_proof);

    [Benchmark(Description = "friendly address round trip")]
    public TonAddress FriendlyAddress() => TonAddress.Parse(TonAddress.ParseRaw(_proof.Address!).ToFriendly());

    [Benchmark(Description = "API token hash (SHA-256 of the secret)")]
    public byte[] TokenHash() => SHA256.HashData("cct_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"u8);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
