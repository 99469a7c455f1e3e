#!/usr/bin/env bash
# Installs the real peers the test suites talk to, cached outside the repository
# (CAPSTAN_CACHE, default ~/.cache/capstan) so reruns are fast. Idempotent.
#
#   bash test/setup/install.sh                 # the pinned default Kafka (below)
#   bash test/setup/install.sh 4.4.0 3.9.2     # several Kafka versions side by side
#   CAPSTAN_KAFKA_VERSIONS="4.4.0 3.9.2" bash test/setup/install.sh
#
# For each Kafka version V it leaves:
#   $CACHE/kafka-V/libs/*.jar     broker+controller, CLI tools, log dumper, clients, streams,
#                                 slf4j + log4j binding (resolved by test/setup/maven/pom.xml)
#   $CACHE/kafka-V/driver/        test/clients/KafkaClientDriver.java compiled against
#                                 kafka-clients V (run: java -cp "libs/*:driver" KafkaClientDriver)
#   $CACHE/kafka-V/.stamp         what it was built from; a matching stamp skips all work
# Maven's own repository lives in $CACHE/m2. The Debian client packages (kcat,
# python3-kafka, python3-confluent-kafka) are installed by .ci/run, not here.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${CAPSTAN_CACHE:-$HOME/.cache/capstan}"
mkdir -p "$CACHE"

# Newest 4.x on Maven Central when this was pinned. Keep in sync with
# DEFAULT_KAFKA_VERSION in test/setup/kafka.ts.
DEFAULT_KAFKA_VERSION=4.4.0

if [ $# -gt 0 ]; then
  versions=("$@")
else
  read -r -a versions <<<"${CAPSTAN_KAFKA_VERSIONS:-$DEFAULT_KAFKA_VERSION}"
fi

POM=test/setup/maven/pom.xml
DRIVER=test/clients/KafkaClientDriver.java

need() { command -v "$1" >/dev/null 2>&1 || { echo "install.sh: '$1' is required but not on PATH" >&2; exit 1; }; }

for v in "${versions[@]}"; do
  dir="$CACHE/kafka-$v"
  stamp="kafka=$v pom=$(sha256sum "$POM" | cut -c1-16) driver=$(sha256sum "$DRIVER" | cut -c1-16)"
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then
    echo "kafka $v: cached in $dir"
    continue
  fi
  need java
  need javac
  need mvn
  echo "kafka $v: resolving jars into $dir/libs"
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  profile=kafka4
  case "$v" in 3.*) profile=kafka3 ;; esac
  if ! mvn -B -q -Dstyle.color=never -f "$POM" \
    -Dmaven.repo.local="$CACHE/m2" \
    -P "$profile" \
    -Dkafka.version="$v" \
    -DincludeScope=runtime \
    -DoutputDirectory="$dir.tmp/libs" \
    dependency:copy-dependencies >"$dir.tmp/mvn.log" 2>&1; then
    cat "$dir.tmp/mvn.log" >&2
    echo "install.sh: mvn could not resolve Kafka $v" >&2
    exit 1
  fi
  rm -f "$dir.tmp/mvn.log"
  [ -f "$dir.tmp/libs/kafka-clients-$v.jar" ] || { echo "install.sh: kafka-clients-$v.jar missing" >&2; exit 1; }
  echo "kafka $v: compiling $DRIVER"
  javac -nowarn -encoding UTF-8 -cp "$dir.tmp/libs/kafka-clients-$v.jar" -d "$dir.tmp/driver" "$DRIVER"
  printf '%s\n' "$stamp" >"$dir.tmp/.stamp"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
  echo "kafka $v: installed in $dir"
done

# Lombok, for compiling the seed notes' SimpleProducer/SimpleConsumer (they use @Slf4j) as
# written: test/interop/seed.ts looks for $CACHE/lombok/lombok-*.jar.
LOMBOK_VERSION=1.18.38
if [ ! -f "$CACHE/lombok/lombok-$LOMBOK_VERSION.jar" ]; then
  need mvn
  echo "lombok $LOMBOK_VERSION: resolving into $CACHE/lombok"
  if ! mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$CACHE/m2" dependency:copy \
    -Dartifact="org.projectlombok:lombok:$LOMBOK_VERSION" -DoutputDirectory="$CACHE/lombok" \
    >"$CACHE/lombok.log" 2>&1; then
    cat "$CACHE/lombok.log" >&2
    echo "install.sh: mvn could not resolve lombok $LOMBOK_VERSION" >&2
    exit 1
  fi
  rm -f "$CACHE/lombok.log"
fi

echo "test dependencies cached in $CACHE"
bash test/setup/k8s.sh # Kubernetes control plane, kubectl, kwok, helm for test/k8s (cached; cold ~9 min)
