#!/usr/bin/env bash
# Measures dispatch through the real portal (Release build, PostgreSQL, Hangfire, SignalR) with scripted
# agents that pair for real and answer each unit at once: submit → first unit assigned, and units per
# second over a job of tiny units. (Agents must be paired; the harness pairs them as the tests do.)
#   bench/dispatch.sh [agents=10] [capacity=4] [units=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Cocoon.Benchmarks -c Release -v q -nologo >/dev/null
exec dotnet bench/Cocoon.Benchmarks/bin/Release/net10.0/Cocoon.Benchmarks.dll dispatch "${1:-10}" "${2:-4}" "${3:-1000}" < /dev/null
