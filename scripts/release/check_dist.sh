#!/usr/bin/env bash
# Tests the release artifacts in dist/ (scripts/release/build_dist.sh) as users would install them:
#
#   - each compiled wheel: installed with its dependencies into a fresh venv of its own CPython, it
#     must be the compiled build (RAGTEL_EXPECT_COMPILED=1, tests/unit/test_build.py) and pass the
#     unit and workload suites, imported from site-packages (the source tree is not on the path);
#   - pip's choice among dist/'s files: the compiled wheel on each CPython here, the pure wheel
#     where no compiled wheel fits;
#   - the pure wheel: installed into the newest CPython's venv, `ragtel demo` runs and exports.
#
# Each wheel is installed by its file name, so pip refuses one whose tags the interpreter does not
# accept instead of falling back to another build, and nothing named ragtel comes from an index.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/release/pythons.sh
source scripts/release/pythons.sh

version="$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)"
venvs="build/release-venvs"
rm -rf "$venvs"
mkdir -p "$venvs"
tested=()

for python in "${pythons[@]}"; do
  tag="$(wheel_tag "$python")"
  wheel="$(ls dist/ragtel-"$version"-"$tag"-"$tag"-*.whl 2>/dev/null || true)"
  if [ -z "$wheel" ]; then
    echo "check_dist: no compiled wheel for $tag in dist/ (run scripts/release/build_dist.sh)" >&2
    exit 1
  fi
  venv="$venvs/$tag"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  # What a user's `pip install ragtel` picks among the release's files: the compiled wheel.
  picked="$("$venv/bin/pip" install --dry-run --quiet --no-index --find-links dist --no-deps \
    --report - ragtel | "$venv/bin/python" -c \
    'import json, sys; print(*[i["download_info"]["url"] for i in json.load(sys.stdin)["install"]])')"
  if [ "$(basename "$picked")" != "$(basename "$wheel")" ]; then
    echo "check_dist: pip on $tag picks $picked over $wheel" >&2
    exit 1
  fi
  # The dev extra brings the test tools and the frameworks the workload suite drives.
  "$venv/bin/pip" install --quiet "${wheel}[dev]"
  installed="$("$venv/bin/python" -c 'import ragtel; print(ragtel.__file__)')"
  case "$installed" in
    "$PWD/$venv"/*) ;;
    *) echo "check_dist: $tag imports ragtel from $installed, not from its venv" >&2; exit 1 ;;
  esac
  echo "check_dist: $tag: $(basename "$wheel")"
  RAGTEL_EXPECT_COMPILED=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    tests/unit tests/workloads
  tested+=("$tag compiled")
done

# The pure wheel, as pip falls back to it where no compiled wheel fits (here: macOS on arm64,
# which dist/ has no compiled wheel for).
newest="${pythons[-1]}"
venv="$venvs/pure"
"$newest" -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
fallback="$(mktemp -d)"
"$venv/bin/pip" download --quiet --no-index --find-links dist --no-deps --only-binary=:all: \
  --platform macosx_11_0_arm64 --dest "$fallback" ragtel
if [ "$(ls "$fallback")" != "ragtel-$version-py3-none-any.whl" ]; then
  echo "check_dist: pip on macOS arm64 would pick $(ls "$fallback"), not the pure wheel" >&2
  exit 1
fi
rm -rf "$fallback"
"$venv/bin/pip" install --quiet "dist/ragtel-$version-py3-none-any.whl"
"$venv/bin/python" -c 'import ragtel, sys; sys.exit(ragtel.compiled())' \
  || { echo "check_dist: the pure wheel installed a compiled build" >&2; exit 1; }
demo_dir="$(mktemp -d)"
(cd "$demo_dir" && "$OLDPWD/$venv/bin/ragtel" demo >demo.out)
# The demo's export, read back: spans in all, and retrieval spans that carry their documents.
read -r spans retrievals < <("$venv/bin/python" - "$demo_dir/ragtel-traces.jsonl" <<'PY'
import json, sys
spans = [
    span
    for line in open(sys.argv[1], encoding="utf-8")
    for resource in json.loads(line)["resourceSpans"]
    for scope in resource["scopeSpans"]
    for span in scope["spans"]
]
retrievals = [
    span for span in spans
    if any(a["key"] == "retrieval.documents.0.document.content" for a in span.get("attributes", []))
]
print(len(spans), len(retrievals))
PY
)
rm -rf "$demo_dir"
if [ "$retrievals" -lt 1 ]; then
  echo "check_dist: the pure wheel's demo exported $spans spans, no retrieval with documents" >&2
  exit 1
fi
tested+=("$(wheel_tag "$newest") pure (demo: $spans spans, $retrievals retrievals with documents)")
printf 'check_dist: passed: %s\n' "${tested[@]}"
