#!/usr/bin/python3
"""Client driver for kafka-python (Debian's python3-kafka; run with /usr/bin/python3).

usage: kafka_python_driver.py BOOTSTRAP TOPIC GROUP [COUNT]

Same scenario as every driver in test/clients/ (see README.md there): produce COUNT
(default 3) keyed records "key-i" -> "value-i" to TOPIC (auto-created by the broker),
the last one with headers h1=v1 and h2=v2, then consume them in consumer group GROUP
from the earliest offset, commit synchronously and exit 0. Exits non-zero on failure
or after a 60 s timeout.
"""
import sys
import time

from kafka import KafkaConsumer, KafkaProducer

TIMEOUT_S = 60


def main(argv):
    if len(argv) < 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    bootstrap, topic, group = argv[1], argv[2], argv[3]
    count = int(argv[4]) if len(argv) > 4 else 3

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    futures = []
    for i in range(count):
        headers = [("h1", b"v1"), ("h2", b"v2")] if i == count - 1 else None
        futures.append(
            producer.send(topic, key=("key-%d" % i).encode(), value=("value-%d" % i).encode(), headers=headers)
        )
    producer.flush(timeout=TIMEOUT_S)
    for f in futures:
        md = f.get(timeout=TIMEOUT_S)
        print("produced %s-%d@%d" % (md.topic, md.partition, md.offset))
    producer.close(timeout=TIMEOUT_S)

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    received = 0
    headers_seen = False
    deadline = time.monotonic() + TIMEOUT_S
    while received < count:
        if time.monotonic() > deadline:
            print("timed out: consumed %d of %d" % (received, count), file=sys.stderr)
            return 1
        for _tp, records in consumer.poll(timeout_ms=500).items():
            for r in records:
                hs = "".join(" %s=%s" % (k, v.decode()) for k, v in (r.headers or []))
                headers_seen = headers_seen or bool(r.headers)
                print("consumed %d@%d %s=%s%s" % (r.partition, r.offset, r.key.decode(), r.value.decode(), hs))
                received += 1
    consumer.commit()
    consumer.close(autocommit=False)
    if not headers_seen:
        print("no record carried headers", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
