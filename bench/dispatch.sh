#!/usr/bin/env bash
# Measures the job pipeline on this machine with the real pieces: the portal (built Release dll, on a
# throwaway database of the embedded kind), N agents as processes, jobs submitted over the API.
# Prints a table: cold start of the portal, submit → first unit running, dispatch throughput.
#   bench/dispatch.sh [agents=2] [units=400]
set -euo pipefail
cd "$(dirname "$0")/.."
agents="${1:-2}"
units="${2:-400}"
port=5199
root="$(mktemp -d /tmp/cocoon-bench-XXXX)"
chown postgres "$root" 2>/dev/null || true
dotnet build Cocoon.sln -c Release -v q -nologo >/dev/null

now_ms() { date +%s%3N; }
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT

# Cold start: process start → /healthz healthy (embedded PostgreSQL created, migrated, Hangfire up).
t0=$(now_ms)
ASPNETCORE_ENVIRONMENT=Development Cocoon__Database__EmbeddedDirectory="$root/pg" Cocoon__LocalAgent__Enabled=false \
  dotnet Cocoon.Web/bin/Release/net10.0/Cocoon.Web.dll --urls "http://127.0.0.1:$port" > "$root/portal.log" 2>&1 &
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done
cold_first=$(( $(now_ms) - t0 ))

for i in $(seq 1 "$agents"); do
  dotnet Cocoon.Agent/bin/Release/net10.0/cocoon-agent.dll run --portal "http://127.0.0.1:$port" --name "bench-$i" --device cpu --data-dir "$root/agent-$i" > "$root/agent-$i.log" 2>&1 &
done
until [ "$(curl -s "http://127.0.0.1:$port/healthz" | grep -o '"agentsOnline":[0-9]*' | cut -d: -f2)" = "$agents" ]; do sleep 0.1; done

pw="$(cat "$root/pg/password")"
pgport="$(grep -o 'started on 127.0.0.1:[0-9]*' "$root/portal.log" | head -1 | cut -d: -f2)"
sql() { PGPASSWORD="$pw" psql -h 127.0.0.1 -p "$pgport" -U postgres -d cocoon -tAc "$1"; }

submit() { curl -s -X POST "http://127.0.0.1:$port/api/jobs" -H 'content-type: application/json' -d "$1" | grep -o '"id":"[^"]*"' | cut -d'"' -f4; }
wait_done() { until curl -s "http://127.0.0.1:$port/api/jobs/$1" | grep -q '"state":"Succeeded"'; do sleep 0.05; done; }

# Latency: one-unit jobs, submit (client clock) → the unit's lease issued / first progress (portal clock, same machine).
lat_lease=(); lat_start=()
for i in 1 2 3 4 5; do
  t=$(now_ms)
  id=$(submit '{"name":"latency","matrixSize":8,"matrixCount":1,"matricesPerUnit":1}')
  wait_done "$id"
  lat_lease+=( $(( $(sql "SELECT (extract(epoch FROM min(l.issued_at))*1000)::bigint FROM leases l JOIN work_units w ON w.id=l.work_unit_id WHERE w.job_id='$id'") - t )) )
  lat_start+=( $(( $(sql "SELECT (extract(epoch FROM min(started_at))*1000)::bigint FROM work_units WHERE job_id='$id'") - t )) )
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Throughput: many tiny units (2×2 matrices) so dispatch, not compute, is what is measured.
t=$(now_ms)
id=$(submit "{\"name\":\"throughput\",\"matrixSize\":2,\"matrixCount\":$units,\"matricesPerUnit\":1}")
wait_done "$id"
wall=$(( $(now_ms) - t ))
span=$(sql "SELECT (extract(epoch FROM max(w.completed_at) - min(l.issued_at))*1000)::bigint FROM work_units w JOIN leases l ON l.work_unit_id=w.id WHERE w.job_id='$id'")

printf '\n| measure | value |\n|---|---|\n'
printf '| portal cold start to healthy (new embedded cluster: initdb + migrate) | %s ms |\n' "$cold_first"
printf '| submit → unit leased (median of 5) | %s ms |\n' "$(median "${lat_lease[@]}")"
printf '| submit → unit running on the agent (median of 5) | %s ms |\n' "$(median "${lat_start[@]}")"
printf '| %s one-matrix units on %s agents, submit → done | %s ms (%s units/s) |\n' "$units" "$agents" "$wall" "$(awk "BEGIN {printf \"%.0f\", $units*1000/$wall}")"
printf '| same, first lease → last unit done | %s ms (%s units/s) |\n' "$span" "$(awk "BEGIN {printf \"%.0f\", $units*1000/$span}")"
