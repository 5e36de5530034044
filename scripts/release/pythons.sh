# shellcheck shell=bash
# Sourced by the release scripts: sets `pythons` to the CPython 3.11+ interpreters on this machine,
# one per minor version, from PATH or else from pyenv (whose shims answer `command -v` for versions
# that are installed but not selected, so each candidate is run once to be sure).
pythons=()
_pyenv_root="$(pyenv root 2>/dev/null || true)"
for _minor in 11 12 13 14; do
  if "python3.$_minor" -c '' >/dev/null 2>&1; then
    pythons+=("$(command -v "python3.$_minor")")
  elif [ -n "$_pyenv_root" ]; then
    _found="$(ls -d "$_pyenv_root"/versions/3."$_minor".*/bin/python3."$_minor" 2>/dev/null \
      | sort -V | tail -n 1 || true)"
    if [ -n "$_found" ]; then pythons+=("$_found"); fi
  fi
done
unset _pyenv_root _minor _found

# The wheel tag of an interpreter: cp311, cp312...
wheel_tag() {
  "$1" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")'
}
