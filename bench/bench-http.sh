#!/usr/bin/env bash
# Load on the node's HTTP API (build/bench/bench_http): 200 Server-Sent-Event
# clients and 1,000 status requests/s on loopback for 60 s while jobs run;
# status latency, stream completeness, node memory. Writes the table into
# docs/performance.md.
#
# usage: [NO_DOC=1] bench/bench-http.sh [SECONDS] [SSE_CLIENTS] [STATUS_PER_S]   (after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}; clients=${2:-200}; rate=${3:-1000}
report=$(build/bench/bench_http build/postroll "$seconds" "$clients" "$rate")
echo "$report"
table=$(python3 - "$report" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print("| SSE clients (connected) | status requests/s | p50 | p99 | max | errors | every client got every event | node peak RSS |")
print("|---|---|---|---|---|---|---|---|")
print(f"| {r['sseClients']} ({r['sseConnected']}) | {r['statusPerSecond']:.0f} over {r['seconds']} s | {r['p50Ms']:.2f} ms | {r['p99Ms']:.2f} ms | {r['maxMs']:.1f} ms | {r['statusErrors']} | {'yes' if r['everyClientGotEveryEvent'] else 'NO'} ({r['transitionsPerClient']} each) | {r['nodePeakRssMb']} MB |")
PY
)
[ -n "${NO_DOC:-}" ] && exit 0
bench/write-doc-block.py http "HTTP API under load" "$table
"
