#!/usr/bin/env bash
# The agent simulator's load run through the real portal (Release build, PostgreSQL, Hangfire, SignalR):
# N paired agents speaking the real protocol, each honest, slow, failing, lying, vanishing or
# reconnecting; four accounts with fair-share weights 1, 1, 2 and 4 running jobs of tiny units; watchers
# loading the job pages. Prints throughput, the raw Hangfire.PostgreSql drain rate measured in the same
# run, exactly-once and ledger checks, the liars caught, page latency and each account's share.
# Exits non-zero when a unit is lost, doubled or paid wrongly, a hold is left, or a liar goes uncaught.
#   bench/simulate.sh [agents=200] [units=10000] [watchers=50]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Cocoon.Benchmarks -c Release -v q -nologo >/dev/null
exec dotnet bench/Cocoon.Benchmarks/bin/Release/net10.0/Cocoon.Benchmarks.dll simulate "${1:-200}" "${2:-10000}" "${3:-50}" < /dev/null
