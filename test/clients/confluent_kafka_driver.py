#!/usr/bin/python3
"""Client driver for confluent-kafka-python / librdkafka (Debian's python3-confluent-kafka;
run with /usr/bin/python3).

usage: confluent_kafka_driver.py BOOTSTRAP TOPIC GROUP [COUNT]

Same scenario as every driver in test/clients/ (see README.md there): produce COUNT
(default 3) keyed records "key-i" -> "value-i" to TOPIC (auto-created by the broker),
the last one with headers h1=v1 and h2=v2, then consume them in consumer group GROUP
from the earliest offset, commit synchronously and exit 0. Exits non-zero on failure
or after a 60 s timeout.
"""
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer

TIMEOUT_S = 60


def main(argv):
    if len(argv) < 4:
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 2
    bootstrap, topic, group = argv[1], argv[2], argv[3]
    count = int(argv[4]) if len(argv) > 4 else 3

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    delivered = []

    def on_delivery(err, msg):
        if err is not None:
            raise KafkaException(err)
        delivered.append(msg)

    for i in range(count):
        headers = [("h1", b"v1"), ("h2", b"v2")] if i == count - 1 else None
        producer.produce(topic, key="key-%d" % i, value="value-%d" % i, headers=headers, on_delivery=on_delivery)
    if producer.flush(TIMEOUT_S) != 0 or len(delivered) != count:
        print("produce timed out: %d of %d delivered" % (len(delivered), count), file=sys.stderr)
        return 1
    for m in delivered:
        print("produced %s-%d@%d" % (m.topic(), m.partition(), m.offset()))

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    received = 0
    headers_seen = False
    deadline = time.monotonic() + TIMEOUT_S
    while received < count:
        if time.monotonic() > deadline:
            print("timed out: consumed %d of %d" % (received, count), file=sys.stderr)
            return 1
        m = consumer.poll(0.5)
        if m is None:
            continue
        if m.error():
            print("consumer error: %s" % m.error(), file=sys.stderr)
            continue
        hs = "".join(" %s=%s" % (k, v.decode()) for k, v in (m.headers() or []))
        headers_seen = headers_seen or bool(m.headers())
        print("consumed %d@%d %s=%s%s" % (m.partition(), m.offset(), m.key().decode(), m.value().decode(), hs))
        received += 1
    consumer.commit(asynchronous=False)
    consumer.close()
    if not headers_seen:
        print("no record carried headers", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
