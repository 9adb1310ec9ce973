#!/usr/bin/env bash
# Quick start: serve the dashboard on the embedded default data. Builds the environment, the synthetic
# warehouse (307,511 applicants) and the scorer the first time; extra arguments go to scripts/serve.py.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
export PROTOVIT_AUTOTRAIN="${PROTOVIT_AUTOTRAIN:-1}"  # product images but no ProtoViT run: train it in the background
exec python scripts/serve.py "$@"
