#!/usr/bin/env bash
# Run the test suite under each supported Python this machine has, each in its own venv
# (.venvs/py3XY, created and refreshed like `make venv`), then print one line per version.
#
#   scripts/test-pythons.sh [PYTEST_ARG ...]
#
# PYTHONS="3.10 3.13" picks the versions (default: every version pyproject.toml promises).
# A version with no interpreter is skipped with a line saying so, unless
# PYTHONS_REQUIRED=1 (CI), which counts it as a failure. An interpreter is found under
# pyenv (`pyenv root`, else $PYENV_ROOT or ~/.pyenv: the newest 3.X.N) or as python3.X
# on PATH. Exits non-zero when any version failed.
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHONS=${PYTHONS:-3.10 3.11 3.12 3.13}
PYTHONS_REQUIRED=${PYTHONS_REQUIRED:-0}

if command -v pyenv >/dev/null 2>&1; then
  pyenv_root=$(pyenv root)
else
  pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
fi

# Print the path of a working interpreter of version $1 (e.g. 3.10), or nothing.
find_python() {
  local version=$1 candidate
  local candidates=()
  if [ -d "$pyenv_root/versions" ]; then
    # Newest patch release first; "3.13.0t" (free-threaded) and the like do not match.
    while IFS= read -r dir; do
      candidates+=("$pyenv_root/versions/$dir/bin/python")
    done < <(ls "$pyenv_root/versions" | grep -E "^${version//./\\.}\.[0-9]+$" | sort -rV)
  fi
  # On PATH, a pyenv shim of an inactive version exists but fails: the check below runs it.
  candidate=$(command -v "python$version" 2>/dev/null) && candidates+=("$candidate")
  for candidate in "${candidates[@]}"; do
    if [ -x "$candidate" ] && [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$version" ]; then
      echo "$candidate"
      return
    fi
  done
}

mkdir -p .venvs
summaries=()
failed=0
for version in $PYTHONS; do
  python=$(find_python "$version")
  if [ -z "$python" ]; then
    if [ "$PYTHONS_REQUIRED" = 1 ]; then
      summaries+=("python $version: FAILED, no interpreter found (pyenv or python$version on PATH)")
      failed=1
    else
      summaries+=("python $version: skipped, no interpreter found (pyenv or python$version on PATH)")
    fi
    continue
  fi
  full=$("$python" -c 'import platform; print(platform.python_version())')
  venv=.venvs/py${version//./}
  stamp=$venv/.naga-installed
  echo "== python $full ($python) in $venv"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    rm -rf "$venv"
    if ! { "$python" -m venv "$venv" &&
      "$venv/bin/python" -m pip install -q --upgrade pip &&
      "$venv/bin/python" -m pip install -q -e '.[test]'; } >"$venv.install.log" 2>&1; then
      tail -n 20 "$venv.install.log"
      summaries+=("python $full: FAILED to install (see $venv.install.log)")
      failed=1
      continue
    fi
    touch "$stamp"
  fi
  log=$venv/pytest.log
  "$venv/bin/python" -m pytest -q "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  # pytest -q ends with "N passed, M skipped in 12.34s (0:00:12)".
  result=$(tail -n 1 "$log" | sed -E 's/^=+ //; s/ =+$//')
  if [ "$status" -ne 0 ]; then
    failed=1
    summaries+=("python $full: FAILED (exit $status): $result (log: $log)")
  else
    summaries+=("python $full: $result")
  fi
done

echo
printf '%s\n' "${summaries[@]}"
exit "$failed"
