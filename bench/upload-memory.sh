#!/usr/bin/env bash
# Uploads a large ciphertext file through the resumable upload API of a real portal (Release,
# embedded PostgreSQL, no agent) in 16 MiB parts and reports the portal's resident memory before,
# and its peak (VmHWM) after: the upload path streams to disk, so memory should stay flat.
#   bench/upload-memory.sh [MiB]   (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
mib="${1:-1024}"
port=5198
work=$(mktemp -d)
dotnet build Cocoon.Web -c Release -v quiet -nologo >/dev/null
ASPNETCORE_ENVIRONMENT=Development dotnet Cocoon.Web/bin/Release/net10.0/Cocoon.Web.dll --urls "http://127.0.0.1:$port" \
  --Cocoon:LocalAgent:Enabled=false --Cocoon:Blobs:Root="$work/blobs" >"$work/portal.log" 2>&1 &
portal=$!
trap 'kill $portal 2>/dev/null; rm -rf "$work"' EXIT
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.2; done

# Sign in with a wallet proof made by @ton/ton, then make an API token for the upload.
jar="$work/cookies"
payload=$(curl -s -c "$jar" -X POST "http://127.0.0.1:$port/api/auth/ton-proof/payload" | sed 's/.*"payload":"\([0-9a-f]*\)".*/\1/')
seed=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
(cd wwwroot-assets && node test/ton-proofs.mjs "$seed" "127.0.0.1:$port" "$(date +%s)" "$payload") \
  | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["V4R2"]))' > "$work/proof.json"
curl -sf -c "$jar" -b "$jar" -H 'content-type: application/json' --data @"$work/proof.json" "http://127.0.0.1:$port/api/auth/ton-proof" >/dev/null
token=$(curl -sf -b "$jar" -H 'content-type: application/json' -d '{"name":"bench","scopes":["jobs:write"],"expiresInDays":1}' \
  "http://127.0.0.1:$port/api/tokens" | sed 's/.*"secret":"\([^"]*\)".*/\1/')

head -c "$((mib * 1024 * 1024))" /dev/urandom > "$work/data"
digest=$(sha256sum "$work/data" | cut -d' ' -f1)
length=$(stat -c %s "$work/data")
rss() { awk '/^VmRSS/ {print $2}' "/proc/$portal/status"; }
before=$(rss)
upload=$(curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "{\"length\":$length}" \
  "http://127.0.0.1:$port/api/uploads" | sed 's/.*"id":"\([^"]*\)".*/\1/')
start=$(date +%s.%N)
part=$((16 * 1024 * 1024))
for ((offset = 0; offset < length; offset += part)); do
  dd if="$work/data" bs="$part" skip="$((offset / part))" count=1 iflag=fullblock status=none \
    | curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $token" -H "content-type: application/octet-stream" \
      --data-binary @- "http://127.0.0.1:$port/api/uploads/$upload?offset=$offset"
done
curl -sf -o /dev/null -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "{\"sha256\":\"$digest\"}" \
  "http://127.0.0.1:$port/api/uploads/$upload/complete"
end=$(date +%s.%N)
peak=$(awk '/^VmHWM/ {print $2}' "/proc/$portal/status")
python3 - "$mib" "$before" "$peak" "$start" "$end" <<'PY'
import sys
mib, before, peak, start, end = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
print(f"| upload of {mib} MiB in 16 MiB parts + complete (SHA-256 check) | value |")
print("|---|---|")
print(f"| portal resident memory before | {before / 1024:.0f} MiB |")
print(f"| portal peak resident memory (VmHWM) | {peak / 1024:.0f} MiB |")
print(f"| wall time, {mib} MiB | {end - start:.1f} s ({mib / (end - start):.0f} MiB/s) |")
PY
