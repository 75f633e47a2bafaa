#!/usr/bin/env bash
# The project's Python environment, .venv/ (git-ignored): Python 3.11 and the pinned package groups in
# python/<group>.txt, e.g. `bash scripts/python-env.sh jupyter`. Each group installed is stamped with a hash of its
# list (and of the Python version), so an unchanged group is a no-op that costs one sha256sum.
# Packages come from a local wheel folder when there is one, offline (`pip install --no-index --find-links`):
# FASHION_ANN_WHEELS, else /opt/pypi/files if it exists; otherwise from the package index (pip's own config).
# FASHION_ANN_PYTHON picks the interpreter (default: python3.11, else python3 if it is 3.11).
# Exits 0 when all groups are there, 1 (after one sentence on stderr saying why) when one could not be had.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
say() { printf 'setup: %s\n' "$*"; }
fail() { say "$*" >&2; exit 1; }
(($# > 0)) || fail "python-env.sh needs the package groups to install (python/<group>.txt), e.g. jupyter"

python_version() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }
pick_python() {
  local p candidates=(python3.11 python3)
  [[ -n "${FASHION_ANN_PYTHON:-}" ]] && candidates=("$FASHION_ANN_PYTHON")
  for p in "${candidates[@]}"; do
    if command -v "$p" >/dev/null 2>&1 && [[ "$(python_version "$p")" == 3.11 ]]; then command -v "$p"; return; fi
  done
}

# The fast path: every group's stamp matches its list. Nothing else (no Python start) is done then.
stamp_of() { sha256sum "$root/python/$1.txt" | cut -c1-64; }
todo=()
for group in "$@"; do
  [[ -f "$root/python/$group.txt" ]] || fail "no package list python/$group.txt (groups: $(cd "$root/python" && ls *.txt | sed 's/\.txt$//' | tr '\n' ' '))"
  [[ -x "$venv/bin/python" && "$(cat "$venv/.stamp-$group" 2>/dev/null)" == "$(stamp_of "$group")" ]] || todo+=("$group")
done
if ((${#todo[@]} == 0)); then
  say "python environment up to date (.venv: $*)"
  exit 0
fi

if [[ ! -x "$venv/bin/python" || "$(python_version "$venv/bin/python")" != 3.11 ]]; then
  python=$(pick_python)
  [[ -n "$python" ]] || fail "no Python 3.11 was found (tried ${FASHION_ANN_PYTHON:-python3.11 and python3}; FASHION_ANN_PYTHON=/path/to/python3.11 picks one)"
  say "creating .venv with $python ($(python_version "$python"))"
  rm -rf "$venv"
  "$python" -m venv "$venv" || fail "$python -m venv .venv failed (on Debian, apt-get install python3-venv)"
fi

wheels="${FASHION_ANN_WHEELS:-}"
[[ -z "$wheels" && -d /opt/pypi/files ]] && wheels=/opt/pypi/files
if [[ -n "$wheels" ]]; then
  [[ -d "$wheels" ]] || fail "FASHION_ANN_WHEELS=$wheels is not a folder of wheels"
  source_args=(--no-index --find-links "$wheels")
  from="the wheels in $wheels"
else
  source_args=()
  from="the package index"
fi

for group in "${todo[@]}"; do
  say "installing python/$group.txt into .venv from $from"
  log="$venv/pip-$group.log"
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q "${source_args[@]}" -r "$root/python/$group.txt" >"$log" 2>&1; then
    reason=$(grep -m1 -E '^ERROR' "$log" | sed 's/^ERROR: //' | cut -c1-200 || true)
    fail "pip could not install python/$group.txt from $from: ${reason:-see $log}"
  fi
  stamp_of "$group" >"$venv/.stamp-$group"
done
say "python environment ready (.venv: $*)"
