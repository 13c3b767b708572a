#!/usr/bin/env bash
# Build the one-folder app: packaging/dist/ssp-desktop/ssp-desktop
#   packaging/build.sh   (uses .venv; first brings it to constraints/packaging.txt, the
#                         locked versions of the app and PyInstaller, so builds repeat)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
    -r constraints/packaging.txt
"$PY" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
    --no-index -e .
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath packaging/dist --workpath packaging/build packaging/ssp-desktop.spec
echo "built packaging/dist/ssp-desktop/"
