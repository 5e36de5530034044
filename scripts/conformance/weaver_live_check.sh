#!/bin/bash
# Cross-check ragtel's spans with OpenTelemetry Weaver's live check (the conventions project's own
# tool), by hand: Weaver receives OTLP on 127.0.0.1:4317 inside a network namespace of its own
# (loopback only: its admin port listens on every interface), send_spans.py sends the demos' spans
# and the scenarios around them, and summarize.py groups what Weaver reported.
#
#   bash scripts/conformance/weaver_live_check.sh /tmp/weaver-check [off]
#
# WEAVER (default ../shared/tools/weaver) and REGISTRY (default ../shared/reference/semconv-genai,
# with model/ and core-filtered/; ../../shared from a worktree) locate the tool and the registry; `off` sends with content
# capture off. The registry gets tests/data/semconv-genai/additions.yaml's names (defined upstream
# after the snapshot) so that only names outside the GenAI conventions remain unknown to it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:?usage: weaver_live_check.sh OUT_DIR [off]}
content=${2:-on}
shared=$repo/../shared
[ -d "$shared" ] || shared=$repo/../../shared  # from a worktree under wt/
weaver=${WEAVER:-$shared/tools/weaver}
registry=${REGISTRY:-$shared/reference/semconv-genai}
python=${PYTHON:-$repo/.venv/bin/python}

if [ "${CONFORMANCE_IN_NETNS:-}" != 1 ]; then
    mkdir -p "$out"
    exec env CONFORMANCE_IN_NETNS=1 WEAVER="$weaver" REGISTRY="$registry" PYTHON="$python" \
        unshare -rn bash "$0" "$@"
fi

ip link set lo up
work=$out/registry
rm -rf "$work" && mkdir -p "$work/.build"
cp -r "$registry/model" "$work/model"
# The manifest names its core dependency by this path, relative to where Weaver runs.
ln -s "$registry/core-filtered" "$work/.build/sc-upstream-filtered"
"$python" "$here/summarize.py" --additions "$repo/tests/data/semconv-genai/additions.yaml" \
    > "$work/model/gen-ai/ragtel-additions.yaml"

(cd "$work" && "$weaver" registry live-check -r ./model --include-unreferenced \
    --otlp-grpc-address 127.0.0.1 --otlp-grpc-port 4317 --admin-port 4320 \
    --inactivity-timeout 600 --format json --output "$out/report" --fail-on none \
    > "$out/weaver.log" 2>&1) &
weaver_pid=$!
for _ in $(seq 1 240); do
    grep -q "OTLP receiver will stop" "$out/weaver.log" && break
    sleep 0.5
done
"$python" "$here/send_spans.py" "$content"
curl -s -X POST http://127.0.0.1:4320/stop > /dev/null
wait "$weaver_pid"
"$python" "$here/summarize.py" "$out/report/live_check.json"
