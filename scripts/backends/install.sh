#!/usr/bin/env bash
# Obtain the real tracing backends used by the e2e tests, cached under .cache/ keyed by version.
#
#   scripts/backends/install.sh [jaeger|collector|phoenix|all]...   (default: all)
#
# A second run with the same versions only checks the cached files and takes seconds.
# Prints the path of each installed binary on a line "<name>=<path>" (stdout); progress and
# timings go to stderr.
#
# Versions (override through the environment):
#   JAEGER_VERSION   module version of github.com/jaegertracing/jaeger to build cmd/jaeger (the
#                    v2, collector-based all-in-one) from: a v1.x tag (v1.76.0 is released
#                    together with v2.13.0) or a release commit such as 798e4b0fcf22 (v2.20.0)
#                    where the module proxy serves it.  v2.x tags cannot be used: the module
#                    path has no /v2.
#   JAEGER_LABEL     version string stamped into the binary (default v2.13.0).
#   OTELCOL_VERSION  version of the OpenTelemetry Collector builder and of the components in
#                    scripts/backends/collector-builder.yaml (the manifest must name the same one).
#   PHOENIX_VERSION  arize-phoenix version from PyPI.
#   PHOENIX_PYTHON   interpreter for the Phoenix venv (default: python3 from PATH).
set -euo pipefail

JAEGER_VERSION="${JAEGER_VERSION:-v1.76.0}"
JAEGER_LABEL="${JAEGER_LABEL:-v2.13.0}"
OTELCOL_VERSION="${OTELCOL_VERSION:-0.159.0}"
PHOENIX_VERSION="${PHOENIX_VERSION:-20.26.1}"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${RAGTEL_CACHE_DIR:-$ROOT/.cache}"
mkdir -p "$CACHE/bin" "$CACHE/logs"

# Go: everything (module cache, build cache) under .cache so CI can cache one folder.
export GOPATH="$CACHE/go"
export GOMODCACHE="$CACHE/go/pkg/mod"
export GOCACHE="$CACHE/go-build"
export GOFLAGS="${GOFLAGS:--mod=mod}"
export GOMAXPROCS="${GOMAXPROCS:-2}"
export CGO_ENABLED=0
export GOTELEMETRY=off
# Keep the Go linker and compiler from running more than two jobs at once.
export GOFLAGS="$GOFLAGS -p=2"

log() { printf '[install %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

need_go() {
    command -v go >/dev/null 2>&1 || { log "go not found on PATH"; exit 2; }
}

# ---------------------------------------------------------------------------------------------
install_jaeger() {
    local dir="$CACHE/bin/jaeger-$JAEGER_VERSION" t0
    t0="$(now)"
    if [[ -x "$dir/jaeger" ]] && "$dir/jaeger" version >/dev/null 2>&1; then
        log "jaeger $JAEGER_VERSION ($JAEGER_LABEL) cached: $dir/jaeger ($(elapsed "$t0") s)"
        echo "jaeger=$dir/jaeger"
        return 0
    fi
    need_go
    # `go install github.com/jaegertracing/jaeger/cmd/jaeger@VERSION` is refused for v1.76.0 (its
    # go.mod has a replace directive) and the proxy here serves no v2.x commit (403), so build
    # from a throwaway tools module: there jaeger is a dependency, its replace directives are
    # copied into the tools module, and `go get -tool` resolves everything else from jaeger's
    # own go.mod.  See scripts/backends/NOTES.md.
    log "building jaeger $JAEGER_VERSION ($JAEGER_LABEL) in a tools module (several minutes on 2 cores)"
    local work="$CACHE/build/jaeger-$JAEGER_VERSION"
    local tmp="$dir.tmp.$$"
    rm -rf "$work" "$tmp"
    mkdir -p "$work" "$tmp"
    (
        set -e
        cd "$work"
        go mod init ragtel.local/jaeger-tool >/dev/null 2>&1
        gomod="$(go mod download -json "github.com/jaegertracing/jaeger@$JAEGER_VERSION" \
            | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
        go mod edit -json "$gomod" | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    old = r["Old"]["Path"] + ("@" + r["Old"]["Version"] if r["Old"].get("Version") else "")
    new = r["New"]["Path"] + ("@" + r["New"]["Version"] if r["New"].get("Version") else "")
    print(f"-replace={old}={new}")
' | xargs -r go mod edit
        go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION"
        go build -trimpath -o "$tmp/jaeger" \
            -ldflags "-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=$JAEGER_LABEL" \
            github.com/jaegertracing/jaeger/cmd/jaeger
    ) >"$CACHE/logs/install-jaeger.log" 2>&1 || {
        tail -n 40 "$CACHE/logs/install-jaeger.log" >&2
        rm -rf "$tmp"
        log "jaeger build FAILED after $(elapsed "$t0") s (log: $CACHE/logs/install-jaeger.log)"
        return 1
    }
    cp "$work/go.mod" "$tmp/go.mod"
    rm -rf "$dir" "$work"
    mv "$tmp" "$dir"
    log "jaeger built in $(elapsed "$t0") s: $dir/jaeger"
    echo "jaeger=$dir/jaeger"
}

# ---------------------------------------------------------------------------------------------
install_collector() {
    local manifest="$HERE/collector-builder.yaml"
    local dir="$CACHE/bin/otelcol-$OTELCOL_VERSION"
    local bin="$dir/otelcol-ragtel"
    local t0 sum
    t0="$(now)"
    if ! grep -q "v$OTELCOL_VERSION" "$manifest"; then
        log "collector: $manifest does not name v$OTELCOL_VERSION; edit both together"
        return 1
    fi
    sum="$(sha256sum "$manifest" | cut -c1-16)"
    if [[ -x "$bin" && "$(cat "$dir/manifest.sha256" 2>/dev/null)" == "$sum" ]] \
        && "$bin" --version >/dev/null 2>&1; then
        log "collector $OTELCOL_VERSION cached: $bin ($(elapsed "$t0") s)"
        echo "collector=$bin"
        return 0
    fi
    need_go

    local bdir="$CACHE/bin/builder-$OTELCOL_VERSION"
    if [[ ! -x "$bdir/builder" ]]; then
        log "installing the collector builder v$OTELCOL_VERSION"
        mkdir -p "$bdir"
        GOBIN="$bdir" go install -trimpath "go.opentelemetry.io/collector/cmd/builder@v$OTELCOL_VERSION"
        log "builder installed after $(elapsed "$t0") s"
    fi

    # Build in a scratch folder; the manifest's output_path is replaced by it.
    local work="$CACHE/build/otelcol-$OTELCOL_VERSION"
    rm -rf "$work"
    mkdir -p "$work"
    sed -E "s#^([[:space:]]*output_path:).*#\\1 $work/dist#" "$manifest" >"$work/manifest.yaml"
    log "building the collector from $manifest (a few minutes on 2 cores)"
    if ! "$bdir/builder" --config "$work/manifest.yaml" >"$CACHE/logs/install-collector.log" 2>&1; then
        tail -n 40 "$CACHE/logs/install-collector.log" >&2
        log "collector build FAILED after $(elapsed "$t0") s"
        return 1
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$work/dist/otelcol-ragtel" "$bin"
    cp "$manifest" "$dir/collector-builder.yaml"
    echo "$sum" >"$dir/manifest.sha256"
    rm -rf "$work"
    log "collector built in $(elapsed "$t0") s: $bin"
    echo "collector=$bin"
}

# ---------------------------------------------------------------------------------------------
install_phoenix() {
    local venv="$CACHE/phoenix-venv-$PHOENIX_VERSION"
    local t0 py
    t0="$(now)"
    if [[ -x "$venv/bin/phoenix" && -f "$venv/.ok" ]]; then
        log "phoenix $PHOENIX_VERSION cached: $venv/bin/phoenix ($(elapsed "$t0") s)"
        echo "phoenix=$venv/bin/phoenix"
        return 0
    fi
    py="${PHOENIX_PYTHON:-python3}"
    log "installing arize-phoenix==$PHOENIX_VERSION into $venv with $py (about 850 MB)"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "arize-phoenix==$PHOENIX_VERSION" >&2; then
        log "phoenix install FAILED after $(elapsed "$t0") s"
        return 1
    fi
    "$venv/bin/phoenix" --help >/dev/null
    touch "$venv/.ok"
    log "phoenix installed in $(elapsed "$t0") s: $venv/bin/phoenix"
    echo "phoenix=$venv/bin/phoenix"
}

# ---------------------------------------------------------------------------------------------
# One install of a backend at a time (parallel test sessions, CI steps): wait for the lock.
with_lock() {
    local name="$1"
    shift
    if command -v flock >/dev/null 2>&1; then
        (
            flock -w 3600 9 || { log "timed out waiting for $CACHE/.install-$name.lock"; exit 1; }
            "$@"
        ) 9>"$CACHE/.install-$name.lock"
    else
        "$@"
    fi
}

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(all)
T0="$(now)"
rc=0
for t in "${targets[@]}"; do
    case "$t" in
        jaeger) with_lock jaeger install_jaeger || rc=1 ;;
        collector) with_lock collector install_collector || rc=1 ;;
        phoenix) with_lock phoenix install_phoenix || rc=1 ;;
        all)
            with_lock jaeger install_jaeger || rc=1
            with_lock collector install_collector || rc=1
            with_lock phoenix install_phoenix || rc=1
            ;;
        *)
            echo "usage: $0 [jaeger|collector|phoenix|all]..." >&2
            exit 2
            ;;
    esac
done
log "done in $(elapsed "$T0") s (rc=$rc)"
exit "$rc"
