#!/usr/bin/python3
"""A steady confluent-kafka (librdkafka) producer for the restart and crash suites.

usage: stream_producer.py JSON
  {"bootstrap": ..., "topic": ..., "acks": "all"|"1", "partition": 0 (optional),
   "rate": records per second (default 400), "config": {extra librdkafka settings}}

Produces records with value "<topic>:<seq>:<padding>" until stdin is closed, then flushes and
exits. Prints one line per delivery report as it arrives, so the caller can follow along:
  ACK <seq> <partition> <offset>
  ERR <seq> <error name> <message>
and finally
  DONE <produced> <acked> <failed>
Retries are generous (message.timeout.ms 120 s), so a broker that goes away and comes back
within that window loses nothing that was acknowledged, and the producer carries on.
"""
import json
import select
import sys
import time

from confluent_kafka import Producer


def main():
    args = json.loads(sys.argv[1])
    topic = args["topic"]
    conf = {
        "bootstrap.servers": args["bootstrap"],
        "acks": str(args.get("acks", "all")),
        "linger.ms": 5,
        "message.timeout.ms": 120000,
        "retry.backoff.ms": 100,
        "reconnect.backoff.ms": 50,
        "reconnect.backoff.max.ms": 500,
        "socket.connection.setup.timeout.ms": 5000,
        "topic.metadata.refresh.interval.ms": 2000,
    }
    conf.update(args.get("config") or {})
    p = Producer(conf)
    rate = float(args.get("rate", 400))
    partition = args.get("partition")
    out = sys.stdout
    acked = failed = 0

    def on_delivery(err, msg):
        nonlocal acked, failed
        seq = int(msg.value().split(b":")[1])
        if err is not None:
            failed += 1
            out.write("ERR %d %s %s\n" % (seq, err.name(), err.str().replace("\n", " ")))
        else:
            acked += 1
            out.write("ACK %d %d %d\n" % (seq, msg.partition(), msg.offset()))
        out.flush()

    seq = 0
    started = time.monotonic()
    stdin_open = True
    while stdin_open:
        # stdin closed (EOF) means: stop producing, flush and report.
        r, _, _ = select.select([sys.stdin], [], [], 0)
        if r and not sys.stdin.readline():
            stdin_open = False
            break
        due = int((time.monotonic() - started) * rate)
        while seq < due:
            value = ("%s:%d:" % (topic, seq)).encode() + b"x" * 64
            kw = {} if partition is None else {"partition": partition}
            try:
                p.produce(topic, value=value, key=str(seq % 16).encode(), on_delivery=on_delivery, **kw)
                seq += 1
            except BufferError:
                break
        p.poll(0.01)
    left = p.flush(130)
    out.write("DONE %d %d %d %d\n" % (seq, acked, failed, left))
    out.flush()


if __name__ == "__main__":
    main()
