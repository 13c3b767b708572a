#!/usr/bin/env bash
# Build the one-folder app: packaging/dist/ssp-desktop/ssp-desktop
#   packaging/build.sh            (uses .venv; installs the [packaging] extra into it)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m PyInstaller --version >/dev/null 2>&1 || "$PY" -m pip install --quiet -e ".[packaging]"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath packaging/dist --workpath packaging/build packaging/ssp-desktop.spec
echo "built packaging/dist/ssp-desktop/"
