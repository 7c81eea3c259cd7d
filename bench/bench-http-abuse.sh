#!/usr/bin/env bash
# The node's HTTP API under hostile load (build/bench/bench_http_abuse):
# GET /api/jobs latency alone, beside 1,000 slowloris clients, 300 event
# streams and 4 endless chunked bodies; the node's peak RSS. Writes the
# table into docs/performance.md. A second binary (e.g. an older build)
# runs the same phases for comparison.
#
# usage: [NO_DOC=1] bench/bench-http-abuse.sh [REQUESTS_PER_PHASE] [OTHER_POSTROLL_BINARY]   (after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
other=${2:-}
report=$(build/bench/bench_http_abuse build/postroll "$n")
echo "$report"
peer=""
if [ -n "$other" ]; then
  peer=$(timeout 600 build/bench/bench_http_abuse "$other" "$n" || echo '{}')
  echo "$peer"
fi
table=$(python3 - "$report" "$peer" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
p = json.loads(sys.argv[2]) if sys.argv[2] else None
def cell(ph):
    if ph is None:
        return "—"
    if ph["p50Ms"] < 0:
        return f"no answer ({ph['errors']} of {ph['requests']} failed)"
    return f"{ph['p50Ms']:.2f} / {ph['p99Ms']:.2f} / {ph['maxMs']:.1f} ms" + (f", {ph['errors']} failed" if ph['errors'] else "")
head = "| load | GET /api/jobs p50 / p99 / max |" + (" same, other binary |" if p else "")
print(head)
print("|---|---|" + ("---|" if p else ""))
for i, ph in enumerate(r["phases"]):
    other = (p or {}).get("phases", [None] * 4)
    line = f"| {ph['phase']} | {cell(ph)} |"
    if p:
        line += f" {cell(other[i] if i < len(other) else None)} |"
    print(line)
print(f"\nNode peak RSS {r['nodePeakRssMb']} MB" + (f" (other: {p.get('nodePeakRssMb', '?')} MB)" if p else "") +
      f"; the chunked senders pushed {r['chunkedBytesSent'] / 1e9:.1f} GB, each cut off after the 1 MB body limit.")
PY
)
[ -n "${NO_DOC:-}" ] && exit 0
bench/write-doc-block.py http-abuse "HTTP API under hostile load" "$table
"
