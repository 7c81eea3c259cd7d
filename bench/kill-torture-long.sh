#!/usr/bin/env bash
# The long kill-torture run: 30 sessions, 300 SIGKILLs of a real node at
# random moments across every stage (CI runs 10 sessions, 30 kills).
# usage: bench/kill-torture-long.sh [SESSIONS] [KILLS]   (after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
export POSTROLL_TORTURE_SESSIONS="${1:-30}"
export POSTROLL_TORTURE_KILLS="${2:-300}"
exec ./build/tests/kill_torture_test --log_level=message
