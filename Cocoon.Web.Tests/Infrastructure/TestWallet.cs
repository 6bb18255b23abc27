using System.Buffers.Binary;
using System.Net.Http.Json;
using Cocoon.Shared.Ton;
using Cocoon.Web.Features.Identity.TonProof;
using Cocoon.Web.Tests.Identity;
using NSec.Cryptography;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>
/// A genuine v4r2 wallet made in the test: an Ed25519 key (NSec), the real v4r2 code from the known
/// answers, a data cell with that key, and ton_proofs signed exactly as a wallet signs them.
/// </summary>
public sealed class TestWallet : IDisposable
{
    private const uint DefaultWalletId = 698983191;
    private static readonly Cell V4R2Code = StateInit.FromBase64(TonVectors.V4R2StateInit).Code!;
    private readonly Key _key;

    public TestWallet(byte[]? seed = null)
    {
        _key = Key.Import(SignatureAlgorithm.Ed25519, seed ?? System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), KeyBlobFormat.RawPrivateKey);
        PublicKey = _key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        State = BuildState(PublicKey);
        Address = State.AddressIn(0);
    }

    public byte[] PublicKey { get; }

    public StateInit State { get; }

    public TonAddress Address { get; }

    public string StateInitBase64 => Convert.ToBase64String(BagOfCells.Serialize(State.Root));

    public TonProofRequest Proof(string payload, string domain, long timestamp, string network = "-3")
    {
        var digest = TonProofMessage.Digest(TonProofMessage.Build(Address, domain, timestamp, payload));
        var signature = SignatureAlgorithm.Ed25519.Sign(_key, digest);
        return new TonProofRequest
        {
            Address = Address.ToRaw(),
            Network = network,
            PublicKey = Convert.ToHexStringLower(PublicKey),
            Proof = new TonProofItem
            {
                Timestamp = timestamp,
                Domain = new TonProofDomain { LengthBytes = (uint)System.Text.Encoding.UTF8.GetByteCount(domain), Value = domain },
                Payload = payload,
                Signature = Convert.ToBase64String(signature),
                StateInit = StateInitBase64,
            },
        };
    }

    /// <summary>Signs in over HTTP the way the browser does; the client's cookie container keeps the session.</summary>
    public Task<HttpResponseMessage> SignInAsync(HttpClient http) => ProveAsync(http, "api/auth/ton-proof");

    /// <summary>Sends a fresh proof of this wallet (a new payload from the portal, signed now) to <paramref name="path"/>.</summary>
    public async Task<HttpResponseMessage> ProveAsync(HttpClient http, string path)
    {
        ArgumentNullException.ThrowIfNull(http);
        var payload = await (await http.PostAsync("api/auth/ton-proof/payload", null)).Content.ReadFromJsonAsync<PayloadBody>();
        var domain = http.BaseAddress!.IsDefaultPort ? http.BaseAddress.Host : $"{http.BaseAddress.Host}:{http.BaseAddress.Port}";
        return await http.PostAsJsonAsync(path, Proof(payload!.Payload, domain, DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    }

    public void Dispose() => _key.Dispose();

    private static StateInit BuildState(byte[] publicKey)
    {
        // v4r2 data: seqno (32) ‖ wallet_id (32) ‖ public key (256) ‖ empty plugins dict (1 bit).
        var data = new byte[4 + 4 + 32 + 1];
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(4), DefaultWalletId);
        publicKey.CopyTo(data, 8);
        var dataCell = new Cell(data, (4 + 4 + 32) * 8 + 1, []);
        return WalletCells.StateInit(V4R2Code, dataCell);
    }

    private sealed record PayloadBody(string Payload);
}
