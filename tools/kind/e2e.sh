#!/usr/bin/env bash
# `npm run kind:e2e`: tools/kind/up.sh, then the dev example (examples/dev: one broker, an
# EXTERNAL NodePort listener advertised as 127.0.0.1:30093, bootstrap 127.0.0.1:30092, two
# KafkaTopics the operator creates), a KafkaTopic breaking the dev cluster's topic policy
# refused by the API server (the admission policy), and a record produced and consumed from
# the host with kcat through the published node ports.
# CAPSTAN_KIND_KEEP=0 deletes the cluster afterwards (kept by default, for a look around).
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

need kcat "the kcat package (Debian/Ubuntu: apt-get install kcat; macOS: brew install kcat)"
bash tools/kind/up.sh

EXAMPLES=examples/dev
KAFKA_NAMESPACE=kafka
BOOTSTRAP=127.0.0.1:30092
TOPIC=dev.marketing-team.sms-platform.json
# A KafkaTopic of the dev cluster whose name breaks its naming template.
BAD_TOPIC='{"apiVersion":"kafka.capstan.dev/v1alpha1","kind":"KafkaTopic","metadata":{"name":"e2e-policy-check","labels":{"kafka.capstan.dev/cluster":"dev"}},"spec":{"topicName":"orders","partitions":1}}'

if [ "${CAPSTAN_KIND_KEEP:-1}" = 0 ]; then
  trap 'kind delete cluster --name "$CLUSTER"' EXIT
fi

on_failure() {
  log "failed; the state of $KAFKA_NAMESPACE:"
  k -n "$KAFKA_NAMESPACE" get kafkaclusters,kafkatopics,statefulsets,pods,services,pvc -o wide || true
  k -n "$KAFKA_NAMESPACE" describe kafkaclusters,kafkatopics || true
  k -n "$NAMESPACE" logs deployment/capstan-operator --tail=100 || true
}
trap 'on_failure' ERR

log "applying $EXAMPLES to namespace $KAFKA_NAMESPACE"
k create namespace "$KAFKA_NAMESPACE" --dry-run=client -o yaml | k apply -f -
k apply --server-side -n "$KAFKA_NAMESPACE" -f "$EXAMPLES"
k -n "$KAFKA_NAMESPACE" wait kafkacluster/dev --for=condition=Ready --timeout=300s
k -n "$KAFKA_NAMESPACE" wait kafkatopic --all --for=condition=Ready --timeout=120s

log "a KafkaTopic that breaks the dev cluster's topic policy (mode Enforce) is refused at apply"
if refused=$(k apply --dry-run=server -n "$KAFKA_NAMESPACE" -f - <<<"$BAD_TOPIC" 2>&1); then
  die "a KafkaTopic named orders was admitted; is the admission policy installed? $refused"
fi
grep -q "capstan-topic-policy-enforce.*denied request: \[naming\]" <<<"$refused" ||
  die "refused, but not by the topic policy: $refused"
log "ok: $refused"

log "producing to and consuming from $TOPIC on $BOOTSTRAP (from the host)"
kcat -b "$BOOTSTRAP" -L -t "$TOPIC" -m 30
record="e2e-$(date +%s)-$RANDOM"
printf 'kind-e2e:%s\n' "$record" | kcat -b "$BOOTSTRAP" -P -t "$TOPIC" -K: -m 30
if kcat -b "$BOOTSTRAP" -C -t "$TOPIC" -o beginning -e -q -f '%k:%s\n' -m 30 | grep -qx "kind-e2e:$record"; then
  log "ok: the record came back through 127.0.0.1:30092"
else
  die "the record produced was not consumed back"
fi
