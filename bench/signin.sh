#!/usr/bin/env bash
# Times wallet sign-in over HTTP against a real portal (Release build, embedded PostgreSQL, no agent):
# POST /api/auth/ton-proof/payload, then POST /api/auth/ton-proof with a proof that @ton/ton signed
# (wwwroot-assets/test/ton-proofs.mjs, v4r2). Prints the median and p90 of each request.
#   bench/signin.sh [iterations]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-30}"
port=5199
log=$(mktemp)
dotnet build Cocoon.Web -c Release -v quiet -nologo >/dev/null
ASPNETCORE_ENVIRONMENT=Development dotnet Cocoon.Web/bin/Release/net10.0/Cocoon.Web.dll --urls "http://127.0.0.1:$port" \
  --Cocoon:LocalAgent:Enabled=false --Cocoon:Identity:SignInRequestsPerMinute=100000 >"$log" 2>&1 &
portal=$!
trap 'kill $portal 2>/dev/null; rm -f "$log" "$log".*' EXIT
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.2; done

seed=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
for i in $(seq "$n"); do
  payload_time=$(curl -s -o "$log.payload" -w '%{time_total}' -X POST "http://127.0.0.1:$port/api/auth/ton-proof/payload")
  payload=$(sed 's/.*"payload":"\([0-9a-f]*\)".*/\1/' "$log.payload")
  (cd wwwroot-assets && node test/ton-proofs.mjs "$seed" "127.0.0.1:$port" "$(date +%s)" "$payload") \
    | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["V4R2"]))' > "$log.proof"
  proof_time=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'content-type: application/json' \
    --data @"$log.proof" "http://127.0.0.1:$port/api/auth/ton-proof")
  [ "${proof_time%% *}" = 200 ] || { echo "sign-in $i answered ${proof_time%% *}" >&2; exit 1; }
  echo "$payload_time ${proof_time#* }"
done | python3 -c '
import sys, statistics
rows = [tuple(map(float, l.split())) for l in sys.stdin]
def stats(xs):
    xs = sorted(xs); return statistics.median(xs) * 1000, xs[int(0.9 * (len(xs) - 1))] * 1000
print(f"| request | median | p90 |  ({len(rows)} sign-ins)")
print("|---|---|---|")
for name, col in (("POST /api/auth/ton-proof/payload", 0), ("POST /api/auth/ton-proof (verify, spend payload, upsert account, cookie)", 1)):
    m, p = stats([r[col] for r in rows]); print(f"| {name} | {m:.1f} ms | {p:.1f} ms |")
'
