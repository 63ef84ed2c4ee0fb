#!/usr/bin/env bash
# Creates (or reuses) the Python virtual environment of the outside judges the tests run, checkov
# and schemathesis from PyPI (scripts/python-tools/requirements.txt, every version pinned by
# constraints.txt). It lives outside the clone, under ${XDG_CACHE_HOME:-~/.cache}/jobsphere/, in a
# folder named after those two files' hash (JOBSPHERE_VENV overrides): clones of different
# versions on one machine each keep theirs instead of rebuilding over each other's. Prints the
# environment's folder on stdout; what it installed and how long it took on stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$here/python-tools/requirements.txt"
constraints="$here/python-tools/constraints.txt"
python="${PYTHON_TOOLS_PYTHON:-python3}"
stamp="$(cat "$requirements" "$constraints" | sha256sum | cut -c1-16)"
venv="${JOBSPHERE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/jobsphere/venv-$stamp}"

mkdir -p "$(dirname "$venv")"
# Several test files (and packages) may ask at once: one builds, the others wait for it.
exec 9>"$venv.lock"
flock 9

if [[ "$(cat "$venv/.jobsphere-stamp" 2>/dev/null)" == "$stamp" ]]; then
  echo "python-tools: reusing $venv" >&2
  echo "$venv"
  exit 0
fi

started=$SECONDS
echo "python-tools: creating $venv with $("$python" --version 2>&1)" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  -r "$requirements" -c "$constraints" >&2
echo "$stamp" >"$venv/.jobsphere-stamp"
frozen="$("$venv/bin/python" -m pip list --format=freeze --disable-pip-version-check)"
tools="$(grep -iE "^(checkov|schemathesis)==" <<<"$frozen" | tr '\n' ' ')"
echo "python-tools: installed ${tools}($(wc -l <<<"$frozen") packages) in $((SECONDS - started)) s" >&2
echo "$venv"
