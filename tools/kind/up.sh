#!/usr/bin/env bash
# `npm run kind:up`: a kind cluster (kind-config.yaml: a control plane and two workers, node
# ports 30092-30095 published on 127.0.0.1) with the Capstan operator installed from the
# images built here. Idempotent: an existing cluster is reused, the images are rebuilt and
# reloaded, the manifests re-applied, and the operator restarted onto the new image.
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

need docker "https://docs.docker.com/engine/install/"
need kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
need kubectl "https://kubernetes.io/docs/tasks/tools/"
docker info >/dev/null 2>&1 || die "no Docker engine is reachable (docker info failed)"

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  log "kind cluster $CLUSTER exists; reusing it"
else
  log "creating kind cluster $CLUSTER"
  kind create cluster --name "$CLUSTER" --config kind-config.yaml --wait 180s
fi

log "building $BROKER_IMAGE and $OPERATOR_IMAGE"
docker build -f broker/Dockerfile -t "$BROKER_IMAGE" .
docker build -f operator/Dockerfile -t "$OPERATOR_IMAGE" .

log "loading the images into the nodes"
kind load docker-image --name "$CLUSTER" "$BROKER_IMAGE" "$OPERATOR_IMAGE"

log "installing the operator (dist/install.yaml)"
node charts/synth.ts --manifests-only --out dist/install.yaml --image "$OPERATOR_IMAGE" --broker-version "$TAG"
# Server-side: the CRDs are too large for client-side apply's last-applied annotation.
# The CRDs must be Established before anything uses them; install.yaml holds no custom
# resources, so one apply is enough.
k apply --server-side --force-conflicts -f dist/install.yaml
k wait --for=condition=Established --timeout=60s \
  crd/kafkaclusters.kafka.capstan.dev crd/kafkatopics.kafka.capstan.dev
# Same tag, new image: restart so the pods run what was just loaded.
k -n "$NAMESPACE" rollout restart deployment/capstan-operator
k -n "$NAMESPACE" rollout status deployment/capstan-operator --timeout=180s

log "ready: kubectl --context $CONTEXT -n $NAMESPACE get pods"
