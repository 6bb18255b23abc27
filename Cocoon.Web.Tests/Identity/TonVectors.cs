using Cocoon.Web.Features.Identity.TonProof;

namespace Cocoon.Web.Tests.Identity;

/// <summary>Known answers from ../shared/reference/ton-vectors.md (made with @ton/core and @ton/crypto).</summary>
internal static class TonVectors
{
    public const string Seed = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
    public const string PublicKey = "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664";
    public const string Domain = "portal.example.com";
    public const long Timestamp = 1700000000;
    public const string Payload = "8f3c2a1b9e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605f4e3";

    public const string V4R2Address = "0:e71f2b5f35e5cd52f7dd471e359e5b15a93fc3b88fd6bc5cccacd9d5afb9fc85";
    public const string V4R2Digest = "673d3241c8cb2fd13fe99f63e47e7b66eec488b3e32436e68581c2691240a7eb";
    public const string V4R2Signature = "TEb8dLiUcin2QgMwQux2YuHoN+iSPDZuhtnaY+XuBhiadpDfROwT4YX7IrrI2iScdJn/vy4AiZC/1K/+qN0CBA==";

    public const string V4R2StateInit =
        "te6cckECFgEAAwQAAgE0ARUBFP8A9KQT9LzyyAsCAgEgAxACAUgEBwLm0AHQ0wMhcbCSXwTgItdJwSCSXwTgAtMfIYIQcGx1Z70ighBkc3RyvbCSXwXgA/pAMCD6RAHIygfL/8nQ7UTQgQFA1yH0BDBcgQEI9ApvoTGzkl8H4AXTP8glghBwbHVnupI4MOMNA4IQZHN0crqSXwbjDQUGAHgB+gD0BDD4J28iMFAKoSG+8uBQghBwbHVngx6xcIAYUATLBSbPFlj6Ahn0AMtpF8sfUmDLPyDJgED7AAYAilAEgQEI9Fkw7UTQgQFA1yDIAc8W9ADJ7VQBcrCOI4IQZHN0coMesXCAGFAFywVQA88WI/oCE8tqyx/LP8mAQPsAkl8D4gIBIAgPAgEgCQ4CAVgKCwA9sp37UTQgQFA1yH0BDACyMoHy//J0AGBAQj0Cm+hMYAIBIAwNABmtznaiaEAga5Drhf/AABmvHfaiaEAQa5DrhY/AABG4yX7UTQ1wsfgAWb0kK29qJoQICga5D6AhhHDUCAhHpJN9KZEM5pA+n/mDeBKAG3gQFImHFZ8xhAT48oMI1xgg0x/TH9MfAvgju/Jk7UTQ0x/TH9P/9ATRUUO68qFRUbryogX5AVQQZPkQ8qP4ACSkyMsfUkDLH1Iwy/9SEPQAye1U+A8B0wchwACfbFGTINdKltMH1AL7AOgw4CHAAeMAIcAC4wABwAORMOMNA6TIyx8Syx/L/xESExQAbtIH+gDU1CL5AAXIygcVy//J0Hd0gBjIywXLAiLPFlAF+gIUy2sSzMzJc/sAyEAUgQEI9FHypwIAcIEBCNcY+gDTP8hUIEeBAQj0UfKnghBub3RlcHSAGMjLBcsCUAbPFlAE+gIUy2oSyx/LP8lz+wACAGyBAQjXGPoA0z8wUiSBAQj0WfKnghBkc3RycHSAGMjLBcsCUAXPFlAD+gITy2rLHxLLP8lz+wAACvQAye1UAFEAAAAAKamjF3m1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZkQCWKgG0=";

    public const string CommentBoc = "te6cckEBAQEAEAAAHAAAAABQYXlvdXQgIzQyKQOwvw==";
    public const string CommentHash = "c19e86ceb81a5c9866c75cdb19be773e3d3ba8f1bdeb1d72ca0890c54cc02d03";

    public const string ExternalMessageBoc =
        "te6cckEBAwEA4QAC44gBZUPZ6qi8Dtmm1cot1P175lXUARlUVwlfMM19lkERK1oCUB3RqDxAFnPpeo191X/jiimn9Bwnq3zwcU/MMjHRNN5sC5tyymBV3SJ1rjyyscAjrDDFAIV/iE+WBySEPP9wCU1NGLsfcvVgAAACSAAYHAECAGhCAFlQ9nqqLwO2abVyi3U/XvmVdQBGVRXCV8wzX2WQRErWoAmJaAAAAAAAAAAAAAAAAAAAAGZCAFlQ9nqqLwO2abVyi3U/XvmVdQBGVRXCV8wzX2WQRErWnMS0AAAAAAAAAAAAAAAAAAADkk4U";
    public const string ExternalMessageHash = "a7135d29d6bdc43f8ab9e776ecf85d72f8fdbd394f3e5344f19121dd9bfa577e";

    /// <summary>TEP-467's normalized hash of the same message (its body is inline, so it differs from the plain hash).</summary>
    public const string ExternalMessageNormalizedHash = "40cb4d20f637fb4256e0d6676a3a39357d7605ebd8bdf8732ae747dada66d652";

    /// <summary>The v4r2 proof above as the endpoint receives it (mainnet).</summary>
    public static TonProofRequest V4R2Proof() => new()
    {
        Address = V4R2Address,
        Network = "-239",
        PublicKey = PublicKey,
        Proof = new TonProofItem
        {
            Timestamp = Timestamp,
            Domain = new TonProofDomain { LengthBytes = 18, Value = Domain },
            Payload = Payload,
            Signature = V4R2Signature,
            StateInit = V4R2StateInit,
        },
    };
}
