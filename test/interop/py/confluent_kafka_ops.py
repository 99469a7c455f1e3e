#!/usr/bin/python3
"""Operations of the confluent-kafka (librdkafka) interop suite; see common.py for the protocol.

usage: confluent_kafka_ops.py OP JSON
  create_topic    {bootstrap, topic, partitions, replicationFactor?, config?}
  describe_topic  {bootstrap, topic}
  delete_topic    {bootstrap, topic}
  produce         {bootstrap, topic, records: [{key, value, headers, partition, timestamp}], config?}
  consume         {bootstrap, topic, partitions?, offset?, reset?, max?, until_eof?, timeout_s?,
                   produce_when_positioned?: [records], config?}
  offsets_for_times {bootstrap, topic, partition, timestamps: [ms]}
  watermarks      {bootstrap, topic, partition}

Consumers never join a group: they assign() partitions. librdkafka insists on a group.id all
the same, so a unique one is set, offsets are never committed, and no offset is read from it.
"""
import logging
import os
import time
import uuid

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

import common


class _Collect(logging.Handler):
    """Keeps librdkafka's warnings and errors (e.g. PROTOERR) for the JSON answer."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


CLIENT_LOG = _Collect()
_logger = logging.getLogger("rdkafka")
_logger.addHandler(CLIENT_LOG)
_logger.addHandler(logging.StreamHandler())
_logger.setLevel(logging.WARNING)


def admin(args):
    return AdminClient({"bootstrap.servers": args["bootstrap"], "socket.timeout.ms": 10000})


def err_info(e):
    if isinstance(e, KafkaException) and e.args and isinstance(e.args[0], KafkaError):
        return {"error": e.args[0].name(), "code": e.args[0].code(), "message": e.args[0].str()}
    return {"error": type(e).__name__, "code": None, "message": str(e)}


def create_topic(args):
    t = NewTopic(
        args["topic"],
        num_partitions=args.get("partitions", 1),
        replication_factor=args.get("replicationFactor", 1),
        config=args.get("config") or {},
    )
    a = admin(args)  # keep a reference: the futures fail if the client is collected
    fs = a.create_topics([t], request_timeout=15)
    try:
        fs[args["topic"]].result(timeout=20)
        return {"error": None}
    except Exception as e:  # noqa: BLE001 - reported to the test
        return err_info(e)


def describe_topic(args):
    a = admin(args)
    md = a.list_topics(timeout=10)
    t = md.topics.get(args["topic"])
    out = {
        "brokers": sorted([[b.id, b.host, b.port] for b in md.brokers.values()]),
        "controller_id": md.controller_id,
        "exists": t is not None,
    }
    if t is not None:
        out["error"] = t.error.name() if t.error else None
        out["partitions"] = sorted(
            [
                {
                    "id": p.id,
                    "leader": p.leader,
                    "replicas": list(p.replicas),
                    "isrs": list(p.isrs),
                    "error": p.error.name() if p.error else None,
                }
                for p in t.partitions.values()
            ],
            key=lambda p: p["id"],
        )
        res = ConfigResource(ConfigResource.Type.TOPIC, args["topic"])
        try:
            cfg = a.describe_configs([res], request_timeout=10)[res].result(timeout=15)
            out["config"] = {k: v.value for k, v in cfg.items()}
        except Exception as e:  # noqa: BLE001
            out["config_error"] = err_info(e)
    return out


def delete_topic(args):
    a = admin(args)
    try:
        a.delete_topics([args["topic"]], request_timeout=15)[args["topic"]].result(timeout=20)
    except Exception as e:  # noqa: BLE001
        return dict(err_info(e), gone=False)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if args["topic"] not in a.list_topics(timeout=10).topics:
            return {"error": None, "gone": True}
        time.sleep(0.2)
    return {"error": None, "gone": False}


def do_produce(bootstrap, topic, records, config):
    conf = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "message.timeout.ms": 30000}
    conf.update(config or {})
    p = Producer(conf)
    results = [None] * len(records)

    def cb(i):
        def on_delivery(err, msg):
            if err is not None:
                results[i] = {"error": err.name(), "code": err.code(), "message": err.str()}
            else:
                ts_type, ts = msg.timestamp()
                results[i] = {
                    "error": None,
                    "partition": msg.partition(),
                    "offset": msg.offset(),
                    "timestamp": ts,
                }

        return on_delivery

    for i, r in enumerate(records):
        kw = {}
        if r.get("partition") is not None:
            kw["partition"] = r["partition"]
        if r.get("timestamp") is not None:
            kw["timestamp"] = r["timestamp"]
        if r.get("headers") is not None:
            kw["headers"] = common.headers_list(r["headers"])
        while True:
            try:
                p.produce(
                    topic,
                    value=common.value_bytes(r.get("value")),
                    key=common.value_bytes(r.get("key")),
                    on_delivery=cb(i),
                    **kw,
                )
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(45)
    if left:
        for i, r in enumerate(results):
            if r is None:
                results[i] = {"error": "NOT_DELIVERED", "code": None, "message": "flush timed out"}
    return results


def produce(args):
    return do_produce(args["bootstrap"], args["topic"], args["records"], args.get("config"))


def record_out(m):
    ts_type, ts = m.timestamp()
    return {
        "partition": m.partition(),
        "offset": m.offset(),
        "timestamp": ts,
        "key": common.show(m.key()),
        "value": common.show(m.value()),
        "headers": common.show_headers(m.headers()),
    }


def consumer(args, extra=None):
    conf = {
        "bootstrap.servers": args["bootstrap"],
        "group.id": "capstan-interop-assign-%s" % uuid.uuid4().hex[:12],
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 100,
        "auto.offset.reset": args.get("reset") or "earliest",
    }
    conf.update(extra or {})
    conf.update(args.get("config") or {})
    return Consumer(conf, logger=_logger)


def start_offset(spec):
    if spec is None or spec == "beginning":
        return OFFSET_BEGINNING
    if spec == "end":
        return OFFSET_END
    return int(spec)


def consume(args):
    c = consumer(args)
    topic = args["topic"]
    parts = args.get("partitions")
    if parts is None:
        md = c.list_topics(topic, timeout=10)
        parts = sorted(md.topics[topic].partitions.keys())
    c.assign([TopicPartition(topic, p, start_offset(args.get("offset"))) for p in parts])
    want = args.get("max")
    until_eof = args.get("until_eof", want is None)
    to_produce = args.get("produce_when_positioned")
    produced = None
    records, errors, eof = [], [], set()
    deadline = time.monotonic() + args.get("timeout_s", 30)
    while time.monotonic() < deadline:
        if want is not None and len(records) >= want:
            break
        if until_eof and to_produce is None and len(eof) == len(parts):
            break
        if to_produce is not None and produced is None and len(eof) == len(parts):
            # Every partition is positioned (at its end): now write the new records.
            produced = do_produce(args["bootstrap"], topic, to_produce, None)
            eof.clear()
            if want is None:
                want = len(to_produce)
        for m in c.consume(100, 0.2):
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                else:
                    errors.append(m.error().name())
                continue
            eof.discard(m.partition())
            records.append(record_out(m))
    c.close()
    return {
        "records": records,
        "errors": errors,
        "produced": produced,
        "eof": sorted(eof),
        "client_log": CLIENT_LOG.lines[-20:],
    }


def offsets_for_times(args):
    c = consumer(args)
    out = []
    for ts in args["timestamps"]:
        r = c.offsets_for_times([TopicPartition(args["topic"], args["partition"], ts)], timeout=10)
        out.append(r[0].offset)
    c.close()
    return out


def watermarks(args):
    c = consumer(args)
    lo, hi = c.get_watermark_offsets(TopicPartition(args["topic"], args["partition"]), timeout=10)
    c.close()
    return [lo, hi]


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    common.main(
        {
            "create_topic": create_topic,
            "describe_topic": describe_topic,
            "delete_topic": delete_topic,
            "produce": produce,
            "consume": consume,
            "offsets_for_times": offsets_for_times,
            "watermarks": watermarks,
        }
    )
