#!/usr/bin/env bash
# `npm run kind:e2e`: tools/kind/up.sh, then the dev example (examples/dev: one broker, an
# EXTERNAL NodePort listener advertised as 127.0.0.1:30093, bootstrap 127.0.0.1:30092), and a
# record produced and consumed from the host with kcat through the published node ports.
# CAPSTAN_KIND_KEEP=0 deletes the cluster afterwards (kept by default, for a look around).
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

need kcat "the kcat package (Debian/Ubuntu: apt-get install kcat; macOS: brew install kcat)"
bash tools/kind/up.sh

EXAMPLES=examples/dev
KAFKA_NAMESPACE=kafka
BOOTSTRAP=127.0.0.1:30092
TOPIC=dev.marketing-team.sms-platform.json

if [ "${CAPSTAN_KIND_KEEP:-1}" = 0 ]; then
  trap 'kind delete cluster --name "$CLUSTER"' EXIT
fi

on_failure() {
  log "failed; the state of $KAFKA_NAMESPACE:"
  k -n "$KAFKA_NAMESPACE" get kafkaclusters,kafkatopics,statefulsets,pods,services,pvc -o wide || true
  k -n "$KAFKA_NAMESPACE" describe kafkaclusters || true
  k -n "$NAMESPACE" logs deployment/capstan-operator --tail=100 || true
}
trap 'on_failure' ERR

log "applying $EXAMPLES to namespace $KAFKA_NAMESPACE"
k create namespace "$KAFKA_NAMESPACE" --dry-run=client -o yaml | k apply -f -
k apply --server-side -n "$KAFKA_NAMESPACE" -f "$EXAMPLES"
k -n "$KAFKA_NAMESPACE" wait kafkacluster/dev --for=condition=Ready --timeout=300s
k -n "$KAFKA_NAMESPACE" wait kafkatopic --all --for=condition=Ready --timeout=120s

log "producing to and consuming from $TOPIC on $BOOTSTRAP (from the host)"
kcat -b "$BOOTSTRAP" -L -t "$TOPIC" -m 30
record="e2e-$(date +%s)-$RANDOM"
printf 'kind-e2e:%s\n' "$record" | kcat -b "$BOOTSTRAP" -P -t "$TOPIC" -K: -m 30
if kcat -b "$BOOTSTRAP" -C -t "$TOPIC" -o beginning -e -q -f '%k:%s\n' -m 30 | grep -qx "kind-e2e:$record"; then
  log "ok: the record came back through 127.0.0.1:30092"
else
  die "the record produced was not consumed back"
fi
