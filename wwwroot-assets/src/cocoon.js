// Browser helpers the portal's Blazor pages call through JS interop (import("./dist/cocoon.js")).

/** Copies text to the clipboard; resolves to true when the browser allowed it. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** Ends the wallet session (the cookie is HttpOnly, so only the portal can clear it). */
export async function signOut() {
  await fetch("/api/auth/sign-out", { method: "POST" });
}
