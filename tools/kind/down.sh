#!/usr/bin/env bash
# `npm run kind:down`: deletes the kind cluster (and with it every broker volume in it).
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
kind delete cluster --name "$CLUSTER"
