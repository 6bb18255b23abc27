using Cocoon.Shared.Ton;

namespace Cocoon.Web.Features.Identity.TonProof;

/// <summary>A wallet whose ownership a proof established.</summary>
public sealed record VerifiedWallet(TonAddress Address, byte[] PublicKey, WalletVersion Version, bool Testnet, string Payload);
