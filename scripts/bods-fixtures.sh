#!/usr/bin/env bash
# Installs the PyPI package `bods-v04-fixtures` (BODS 0.4 edge cases with their stated answers) into
# a virtual environment of its own and prints the folder that holds its data. Idempotent: a venv
# that already has the package is reused. Fails loudly when Python, venv or PyPI is unavailable.
# Env: CTRLGRAPH_BODS_VENV (default target/venv-bods).
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.1.1
venv="${CTRLGRAPH_BODS_VENV:-target/venv-bods}"
command -v python3 >/dev/null || { echo "error: python3 is not installed" >&2; exit 1; }
if [ ! -x "$venv/bin/python" ]; then
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" >&2 || { echo "error: cannot create a virtual environment at $venv (Debian: apt-get install python3-venv)" >&2; exit 1; }
fi
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('bods-v04-fixtures') != '$version')" 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "bods-v04-fixtures==$version" >&2 \
    || { echo "error: cannot install bods-v04-fixtures==$version from PyPI into $venv" >&2; exit 1; }
fi
"$venv/bin/python" -c "import bods_fixtures, pathlib; print(pathlib.Path(bods_fixtures.__file__).parent / 'data')"
