// Wallet sign-in for the portal's Blazor pages (imported as ./dist/wallet.js): TON Connect for real
// wallets, the Development-only test wallet, sign-out, and sendTransaction for payments.
import { TonConnectUI } from "@tonconnect/ui";
import { testWalletProof, forgetTestWallet, testWalletSend, testWalletSign } from "./wallet/test-wallet.js";

let ui = null;

async function newPayload() {
  const response = await fetch("/api/auth/ton-proof/payload", { method: "POST" });
  if (!response.ok) throw new Error(`The portal did not issue a sign-in payload (HTTP ${response.status}).`);
  return (await response.json()).payload;
}

async function checkProof(body) {
  const response = await fetch("/api/auth/ton-proof", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.ok) return { ok: true, account: await response.json() };
  let problem = {};
  try { problem = await response.json(); } catch { /* not JSON */ }
  return { ok: false, code: problem.code ?? `http_${response.status}`, message: problem.detail ?? problem.title ?? "Sign-in failed." };
}

/** Mounts the TON Connect button; a connected wallet's proof signs the person in, then `done` runs. */
export async function mountTonConnect(buttonRootId, manifestUrl, dotnet) {
  ui ??= new TonConnectUI({ manifestUrl, buttonRootId });
  // A connection restored from an earlier visit carries no proof; start clean so connecting signs in.
  if (await ui.connectionRestored) await ui.disconnect().catch(() => {});
  ui.setConnectRequestParameters({ state: "loading" });
  ui.setConnectRequestParameters({ state: "ready", value: { tonProof: await newPayload() } });
  ui.onStatusChange(async (wallet) => {
    const proof = wallet?.connectItems?.tonProof;
    if (!wallet || !proof) return;
    if (!("proof" in proof)) {
      await dotnet.invokeMethodAsync("OnSignInFailed", "proof_refused", "The wallet did not sign the proof.");
      return;
    }
    const result = await checkProof({
      address: wallet.account.address,
      network: wallet.account.chain,
      public_key: wallet.account.publicKey,
      proof: { ...proof.proof, state_init: wallet.account.walletStateInit },
    });
    if (result.ok) await dotnet.invokeMethodAsync("OnSignedIn");
    else {
      await ui.disconnect().catch(() => {});
      await dotnet.invokeMethodAsync("OnSignInFailed", result.code, result.message);
    }
  });
}

/** Signs in with the in-browser test wallet (Development only; the server refuses nothing special for it). */
export async function signInWithTestWallet(version) {
  try {
    return await checkProof(await testWalletProof(await newPayload(), version));
  } catch (error) {
    return { ok: false, code: "test_wallet_error", message: String(error?.message ?? error) };
  }
}

export { forgetTestWallet };

/** Disconnects the TON Connect wallet (the session stays; see signOut). */
export async function disconnect() {
  if (ui?.connected) await ui.disconnect();
}

export async function signOut() {
  await fetch("/api/auth/sign-out", { method: "POST" });
  if (ui?.connected) await ui.disconnect().catch(() => {});
}

/** Asks the connected wallet to sign and send a transaction (TON Connect's request shape). */
export async function sendTransaction(transaction) {
  if (!ui?.connected) throw new Error("Connect a wallet first.");
  return ui.sendTransaction(transaction);
}

/**
 * Sends a top-up: through the test wallet and the local devnet when the page says so (Development),
 * otherwise through TON Connect, connecting the wallet first if this page has not. Returns
 * { ok } or { ok: false, message }.
 */
export async function topUp(request, manifestUrl, testWalletVersion) {
  try {
    if (testWalletVersion && localStorage.getItem("cocoon.test-wallet.seed")) {
      await testWalletSend(request, testWalletVersion);
      return { ok: true };
    }
    ui ??= new TonConnectUI({ manifestUrl });
    await ui.connectionRestored;
    if (!ui.connected) {
      await ui.openModal();
      return { ok: false, message: "Connect your wallet in the window that opened, then press Top up again." };
    }
    await ui.sendTransaction(request);
    return { ok: true };
  } catch (error) {
    return { ok: false, message: String(error?.message ?? error) };
  }
}

/**
 * Connects the treasury wallet for signing payouts. Returns { ok, maxMessages } (read from the wallet's
 * SendTransaction feature: 4 on wallets v3/v4, 255 on W5) or { ok: false, message }.
 */
export async function connectTreasury(manifestUrl, treasuryRaw) {
  try {
    ui ??= new TonConnectUI({ manifestUrl });
    await ui.connectionRestored;
    if (!ui.connected) {
      await ui.openModal();
      return { ok: false, message: "Connect the treasury wallet in the window that opened, then press Sign again." };
    }
    if (ui.account.address.toLowerCase() !== treasuryRaw.toLowerCase()) {
      return { ok: false, message: `The connected wallet (${ui.account.address}) is not the treasury (${treasuryRaw}). Disconnect it and connect the treasury.` };
    }
    const feature = (ui.wallet?.device?.features ?? []).find(f => typeof f === "object" && f.name === "SendTransaction");
    return { ok: true, maxMessages: feature?.maxMessages ?? 4 };
  } catch (error) {
    return { ok: false, message: String(error?.message ?? error) };
  }
}

/** Asks the connected treasury wallet to sign the portal's payout request; returns { ok, boc } or { ok: false, message }. */
export async function signPayouts(request) {
  try {
    const result = await ui.sendTransaction(request);
    return { ok: true, boc: result.boc };
  } catch (error) {
    return { ok: false, message: String(error?.message ?? error) };
  }
}

/**
 * Proves a new payout wallet: the person connects it with a fresh ton_proof, which the portal checks as
 * it checks a sign-in. Returns { ok } or { ok: false, message }.
 */
export async function provePayoutWallet(manifestUrl) {
  try {
    ui ??= new TonConnectUI({ manifestUrl });
    if (await ui.connectionRestored) await ui.disconnect().catch(() => {});
    ui.setConnectRequestParameters({ state: "ready", value: { tonProof: await newPayload() } });
    const wallet = await new Promise((resolve, reject) => {
      const stop = ui.onStatusChange(w => { if (w) { stop(); resolve(w); } }, e => { stop(); reject(e); });
      ui.openModal().catch(reject);
    });
    const proof = wallet?.connectItems?.tonProof;
    if (!proof || !("proof" in proof)) return { ok: false, message: "The wallet did not sign the proof." };
    const response = await fetch("/api/payouts/wallet", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        address: wallet.account.address,
        network: wallet.account.chain,
        public_key: wallet.account.publicKey,
        proof: { ...proof.proof, state_init: wallet.account.walletStateInit },
      }),
    });
    if (response.ok) return { ok: true };
    let problem = {};
    try { problem = await response.json(); } catch { /* not JSON */ }
    return { ok: false, message: problem.detail ?? problem.title ?? `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, message: String(error?.message ?? error) };
  }
}

/** Development: signs the portal's payout request with the in-browser test wallet when it is the treasury; returns { ok, boc } or { ok: false, message }. */
export async function signPayoutsWithTestWallet(request, version) {
  try {
    return { ok: true, boc: await testWalletSign(request, version) };
  } catch (error) {
    return { ok: false, message: String(error?.message ?? error) };
  }
}
