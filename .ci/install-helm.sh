#!/usr/bin/env bash
# Install helm (pinned) for the deploy tests, built from the Go module proxy.
# Idempotent: does nothing when the pinned version is already at $HELM_DIR or on PATH.
# Prints progress on stderr and the helm path on stdout (last line), so callers can do
#   export HELM_BIN="$(bash .ci/install-helm.sh | tail -n1)"
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
HELM_DIR="${HELM_DIR:-$HOME/.cache/fabrikam/bin}"
GO="${GO:-}"

log() { echo "install-helm: $*" >&2; }

has_version() {
    # `helm version --template` prints e.g. v3.22.0
    [[ -x "$1" ]] && [[ "$("$1" version --template '{{.Version}}' 2>/dev/null || true)" == "$HELM_VERSION" ]]
}

if has_version "$HELM_DIR/helm"; then
    log "helm $HELM_VERSION already at $HELM_DIR/helm"
    echo "$HELM_DIR/helm"
    exit 0
fi

if on_path="$(command -v helm 2>/dev/null)" && has_version "$on_path"; then
    log "helm $HELM_VERSION already on PATH at $on_path"
    echo "$on_path"
    exit 0
fi

if [[ -z "$GO" ]]; then
    if command -v go >/dev/null 2>&1; then
        GO="$(command -v go)"
    elif [[ -x /usr/local/go/bin/go ]]; then
        GO=/usr/local/go/bin/go
    else
        log "Go toolchain not found (set GO=/path/to/go)"
        exit 1
    fi
fi

mkdir -p "$HELM_DIR"
log "downloading helm.sh/helm/v3@$HELM_VERSION from the Go module proxy"
module_dir="$("$GO" mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
# A plain `go install` leaves helm reporting "v3.22" and assuming Kubernetes 1.20 for
# `helm template`/`helm lint`; set what helm's own Makefile sets for a release build:
# its version and the Kubernetes minor of the client-go it was built against.
client_go="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$module_dir/go.mod")"  # e.g. v0.37.0
k8s_minor="$(echo "$client_go" | cut -d. -f2)"
ldflags="-w -s -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldflags="$ldflags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
log "building helm $HELM_VERSION (Kubernetes 1.$k8s_minor) with $("$GO" version) into $HELM_DIR; takes a few minutes the first time"
GOBIN="$HELM_DIR" "$GO" install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"

if ! has_version "$HELM_DIR/helm"; then
    log "built $HELM_DIR/helm but it does not report $HELM_VERSION"
    exit 1
fi
log "helm $HELM_VERSION installed"
echo "$HELM_DIR/helm"
