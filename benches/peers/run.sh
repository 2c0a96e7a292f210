#!/usr/bin/env bash
# Runs benches/peers/peers.py in a virtual environment of its own, built from the exact
# versions in requirements.lock (PyPI). Usage: benches/peers/run.sh --lake DIR [options]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${FOCI_HUNT_PEERS_VENV:-${TMPDIR:-/tmp}/foci-hunt-peers-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.lock"
exec "$venv/bin/python" "$here/peers.py" "$@"
