using Cocoon.Shared.Ton;
using Cocoon.Web.Hosting;
using Microsoft.Extensions.Options;
using NSec.Cryptography;

namespace Cocoon.Web.Features.Identity.TonProof;

/// <summary>
/// Checks a TON Connect <c>ton_proof</c> exactly as the spec says: network, domain, age, the Ed25519
/// signature over the proof message, the public key inside the wallet's state init, and that the state
/// init hashes to the address. The one-time payload is checked by <see cref="ProofPayloads"/>.
/// </summary>
public sealed class TonProofVerifier(IOptions<PortalOptions> portal, IOptions<WalletSignInOptions> options, TimeProvider clock)
{
    private const string Mainnet = "-239";
    private const string Testnet = "-3";

    public VerifiedWallet Verify(TonProofRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var proof = request.Proof;
        if (request.Address is null || request.Network is null || request.PublicKey is null || proof?.Domain?.Value is null
            || proof.Payload is null || proof.Signature is null || proof.StateInit is null)
        {
            throw TonProofException.BadRequest("bad_request", "address, network, public_key and proof (timestamp, domain, payload, signature, state_init) are all required.");
        }

        if (request.Network is not (Mainnet or Testnet))
        {
            throw TonProofException.BadRequest("wrong_network", $"network must be {Mainnet} (mainnet) or {Testnet} (testnet).");
        }

        var address = Parse(() => TonAddress.ParseRaw(request.Address));
        var publicKey = HexKey(request.PublicKey);
        var signature = Base64(proof.Signature, "signature");
        if (signature.Length != 64)
        {
            throw TonProofException.BadRequest("bad_signature", "The signature must be 64 bytes of base64.");
        }

        var expectedDomain = portal.Value.PublicHost;
        if (!string.Equals(proof.Domain.Value, expectedDomain, StringComparison.Ordinal)
            || proof.Domain.LengthBytes != (uint)System.Text.Encoding.UTF8.GetByteCount(proof.Domain.Value))
        {
            throw TonProofException.BadRequest("domain_mismatch", $"The proof was made for '{proof.Domain.Value}', not for this portal ({expectedDomain}).");
        }

        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var age = now - proof.Timestamp;
        if (age > options.Value.ProofMaxAgeMinutes * 60L)
        {
            throw new TonProofException("expired", $"The proof is {age / 60} minutes old; sign in again (proofs last {options.Value.ProofMaxAgeMinutes} minutes).");
        }

        if (age < -5 * 60)
        {
            throw new TonProofException("expired", "The proof's timestamp is in the future: check the device's clock.");
        }

        var state = Parse(() => Shared.Ton.StateInit.FromBase64(proof.StateInit));
        if (!state.AddressIn(address.Workchain).Equals(address))
        {
            throw new TonProofException("address_mismatch", "The wallet's state init does not hash to the address it claims.");
        }

        var (version, walletKey) = Parse(() => WalletContracts.ReadPublicKey(state));
        if (!walletKey.AsSpan().SequenceEqual(publicKey))
        {
            throw new TonProofException("public_key_mismatch", "public_key is not the key inside the wallet's state init.");
        }

        var digest = TonProofMessage.Digest(TonProofMessage.Build(address, proof.Domain.Value, proof.Timestamp, proof.Payload));
        var key = PublicKey.Import(SignatureAlgorithm.Ed25519, publicKey, KeyBlobFormat.RawPublicKey);
        if (!SignatureAlgorithm.Ed25519.Verify(key, digest, signature))
        {
            throw new TonProofException("bad_signature", "The signature does not verify with the wallet's key.");
        }

        return new VerifiedWallet(address, publicKey, version, request.Network == Testnet, proof.Payload);
    }

    private static T Parse<T>(Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (TonFormatException ex)
        {
            throw TonProofException.BadRequest(ex.Code, ex.Message);
        }
    }

    private static byte[] HexKey(string hex)
    {
        try
        {
            var key = Convert.FromHexString(hex);
            return key.Length == 32 ? key : throw new FormatException();
        }
        catch (FormatException)
        {
            throw TonProofException.BadRequest("bad_request", "public_key must be 64 hex digits.");
        }
    }

    private static byte[] Base64(string text, string field)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw TonProofException.BadRequest("bad_request", $"{field} is not valid base64.");
        }
    }
}
