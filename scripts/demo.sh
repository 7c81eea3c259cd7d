#!/usr/bin/env bash
# README command 1: install dependencies, build, make a demo session and
# finalize it with the embedded runtime (job database in the user's
# $XDG_STATE_HOME/postroll, i.e. ~/.local/state/postroll).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
rm -rf demo-session
scripts/make-demo-session.sh demo-session 40 >/dev/null
echo "demo session: $(pwd)/demo-session"
./build/postroll process demo-session
echo "enrichment (transcript, chapters, summary, canvas): $(pwd)/demo-session/postroll/enrichment"
