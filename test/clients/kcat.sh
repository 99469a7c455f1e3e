#!/usr/bin/env bash
# Client driver for kcat (librdkafka's command-line client; Debian package kcat).
#
# usage: kcat.sh BOOTSTRAP TOPIC GROUP [COUNT]
#
# Same scenario as every driver in test/clients/ (see README.md there): produce COUNT
# (default 3) keyed records "key-i" -> "value-i" to TOPIC (auto-created by the broker),
# the last one with headers h1=v1 and h2=v2 (a second kcat -P run, as -H applies to a whole
# run), then consume them with a balanced consumer in group GROUP (kcat -G) from the
# earliest offset and exit 0; kcat commits the consumed offsets when it closes the
# consumer. Exits non-zero on failure or after a 60 s timeout.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: kcat.sh BOOTSTRAP TOPIC GROUP [COUNT]" >&2
  exit 2
fi
B=$1 T=$2 G=$3 N=${4:-3}
KCAT=${KCAT:-kcat}
TMO=60

if [ "$N" -gt 1 ]; then
  for i in $(seq 0 $((N - 2))); do echo "key-$i:value-$i"; done |
    timeout "$TMO" "$KCAT" -b "$B" -P -t "$T" -K : -X acks=all
fi
echo "key-$((N - 1)):value-$((N - 1))" |
  timeout "$TMO" "$KCAT" -b "$B" -P -t "$T" -K : -X acks=all -H h1=v1 -H h2=v2
echo "produced $N"

out=$(timeout "$TMO" "$KCAT" -b "$B" -G "$G" -X auto.offset.reset=earliest -c "$N" \
  -f 'consumed %p@%o %k=%s headers=%h\n' "$T")
printf '%s\n' "$out"
if [ "$(printf '%s\n' "$out" | grep -c '^consumed ')" -ne "$N" ]; then
  echo "consumed the wrong number of records" >&2
  exit 1
fi
printf '%s\n' "$out" | grep -q 'h1=v1' || { echo "no record carried headers" >&2; exit 1; }
echo "ok"
