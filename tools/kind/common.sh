# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
# Shared by tools/kind/*.sh (sourced, not run): settings, checks and helpers.
# Overridable: CAPSTAN_KIND_CLUSTER (default capstan), CAPSTAN_IMAGE_TAG (default: the
# package version, which the install manifests use for both images).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"

CLUSTER=${CAPSTAN_KIND_CLUSTER:-capstan}
CONTEXT="kind-$CLUSTER"
VERSION=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)
TAG=${CAPSTAN_IMAGE_TAG:-$VERSION}
BROKER_IMAGE="capstan/broker:$TAG"
OPERATOR_IMAGE="capstan/operator:$TAG"
NAMESPACE=capstan-system

log() { printf '\n==> %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is needed: $2"
}

k() { kubectl --context "$CONTEXT" "$@"; }

[ -n "$VERSION" ] || die "cannot read the version from package.json"
