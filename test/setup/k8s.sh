#!/usr/bin/env bash
# Builds the Kubernetes binaries that test/k8s/harness.ts runs (a real control plane on
# loopback, no Docker) from the pinned Go modules in tools/, cached outside the repository.
# Idempotent: a stamp over the module files skips all work when nothing changed.
#
#   bash test/setup/k8s.sh
#
# Leaves in $CACHE/k8s-<kubernetes version>/bin/ (CACHE = CAPSTAN_CACHE, default ~/.cache/capstan):
#   kube-apiserver kube-controller-manager kube-scheduler kubectl etcd   (tools/k8s)
#   kwok, kwok-stages.yaml (kwok's default "fast" node and pod stages)   (tools/k8s/kwok)
#   helm                                                                 (tools/helm)
# Go's module and build caches live in $CACHE/go/{mod,build}; the build cache is emptied after
# a successful build unless CAPSTAN_K8S_KEEP_GOCACHE=1 (see the end). Needs Go >= the go
# directives of those go.mod files (GOTOOLCHAIN=local: no toolchain is downloaded).
# Cold: about 9 minutes on 2 cores, ~2 GB RSS at peak.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${CAPSTAN_CACHE:-$HOME/.cache/capstan}"

modver() { sed -n "s|^[[:space:]]*\(require[[:space:]]\+\)\?$2 \(v[^[:space:]]*\).*|\2|p" "$1" | head -n1; }
K8S_VERSION="$(modver tools/k8s/go.mod k8s.io/kubernetes)"   # v1.35.4
KWOK_VERSION="$(modver tools/k8s/kwok/go.mod sigs.k8s.io/kwok)"
HELM_VERSION="$(modver tools/helm/go.mod helm.sh/helm/v3)"
HELM_CLIENT_GO="$(modver tools/helm/go.mod k8s.io/client-go)"
[ -n "$K8S_VERSION" ] && [ -n "$KWOK_VERSION" ] && [ -n "$HELM_VERSION" ] && [ -n "$HELM_CLIENT_GO" ] || {
  echo "k8s.sh: cannot read the pinned versions from tools/*/go.mod" >&2
  exit 1
}

DIR="$CACHE/k8s-${K8S_VERSION#v}"
BIN="$DIR/bin"
# Bump when a change to this script changes what it builds (flags, files): that rebuilds.
BUILD_REV=1
SUMS="$(cat tools/k8s/go.mod tools/k8s/go.sum tools/k8s/cmd/*/main.go tools/k8s/kwok/go.mod tools/k8s/kwok/go.sum \
  tools/helm/go.mod tools/helm/go.sum | sha256sum | cut -c1-16)"
STAMP="k8s=$K8S_VERSION kwok=$KWOK_VERSION helm=$HELM_VERSION modules=$SUMS rev=$BUILD_REV"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok helm)

complete() {
  [ -f "$DIR/.stamp" ] && [ "$(cat "$DIR/.stamp")" = "$STAMP" ] || return 1
  for b in "${BINARIES[@]}"; do [ -x "$BIN/$b" ] || return 1; done
  [ -f "$BIN/kwok-stages.yaml" ]
}
if complete; then
  echo "k8s $K8S_VERSION: cached in $BIN"
  exit 0
fi

command -v go >/dev/null 2>&1 || {
  echo "k8s.sh: 'go' is required but not on PATH (Debian: golang-go is too old; use Go >= 1.26)" >&2
  exit 1
}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false -trimpath"
export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build"
# Two cores on CI; the linker of kube-apiserver peaks around 1-2 GB.
export GOMAXPROCS="${GOMAXPROCS:-2}"
mkdir -p "$BIN" "$GOMODCACHE" "$GOCACHE"
rm -f "$DIR/.stamp"
start=$SECONDS
step() { echo "k8s $K8S_VERSION: $* ($((SECONDS - start))s)"; }

# The same variables hack/lib/version.sh sets, so /version and `kubectl version` report the
# release instead of v0.0.0-master.
minor="${K8S_VERSION#v1.}"
minor="${minor%%.*}"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

step "downloading Go modules into $GOMODCACHE"
(cd tools/k8s && go mod download)
(cd tools/k8s/kwok && go mod download)
(cd tools/helm && go mod download)

# One `go build` for the five commands shares the compile work between them.
step "building kube-apiserver kube-controller-manager kube-scheduler kubectl etcd"
(cd tools/k8s && go build -ldflags "$ldflags" -o "$BIN/" ./cmd/...)

step "building kwok $KWOK_VERSION"
kwok_ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}"
(cd tools/k8s/kwok && go build -ldflags "$kwok_ldflags" -o "$BIN/kwok" sigs.k8s.io/kwok/cmd/kwok)
# Run outside kwokctl, kwok needs its Stages as config: the defaults kwokctl uses (node
# initialize + heartbeat with leases, pod ready/complete/delete), from the same module.
kwok_src="$(cd tools/k8s/kwok && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
  echo "---"
  cat "$kwok_src/kustomize/stage/$f"
done >"$BIN/kwok-stages.yaml"

# helm's Makefile: its version, and the Kubernetes version that client-only `helm template`
# and `helm lint` assume, taken from the client-go it is built with.
step "building helm $HELM_VERSION"
helm_minor="${HELM_CLIENT_GO#v0.}"
helm_minor="${helm_minor%%.*}"
helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
helm_ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  helm_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$helm_minor"
done
(cd tools/helm && go build -ldflags "$helm_ldflags" -o "$BIN/helm" helm.sh/helm/v3/cmd/helm)

# (sed, not head: head would close the pipe early, and pipefail turns SIGPIPE into a failure)
"$BIN/kube-apiserver" --version
"$BIN/kubectl" version --client=true | sed -n 1p
"$BIN/etcd" --version | sed -n 1p
"$BIN/kwok" --version | sed -n 1p
"$BIN/helm" version --short
printf '%s\n' "$STAMP" >"$DIR/.stamp"
# The build cache is ~4 GB and only speeds up a rebuild of the same versions; the module
# cache (~1.2 GB) is kept. CAPSTAN_K8S_KEEP_GOCACHE=1 keeps both (rebuild: seconds).
if [ "${CAPSTAN_K8S_KEEP_GOCACHE:-}" != 1 ]; then
  go clean -cache
fi
step "installed in $BIN"
