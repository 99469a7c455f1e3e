#!/usr/bin/python3
"""Operations of the kafka-python interop suite; see common.py for the protocol.

usage: kafka_python_ops.py OP JSON   (same operations and arguments as confluent_kafka_ops.py)

Consumers have no group (group_id=None) and assign() partitions; without an offset to start
from they apply auto_offset_reset, as there is no committed offset to read.
"""
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

import common


def admin(args):
    return KafkaAdminClient(bootstrap_servers=args["bootstrap"], request_timeout_ms=15000)


def err_info(e):
    return {"error": type(e).__name__, "code": getattr(e, "errno", None), "message": str(e)}


def create_topic(args):
    a = admin(args)
    t = NewTopic(
        args["topic"],
        num_partitions=args.get("partitions", 1),
        replication_factor=1,
        topic_configs=args.get("config") or {},
    )
    try:
        resp = a.create_topics([t], timeout_ms=15000)
    except Exception as e:  # noqa: BLE001 - reported to the test
        return err_info(e)
    finally:
        a.close()
    errs = [[name, code] for name, code, *_ in resp.topic_errors if code != 0]
    return {"error": errs[0] if errs else None}


def describe_topic(args):
    a = admin(args)
    try:
        cluster = a.describe_cluster()
        topics = a.describe_topics([args["topic"]])
        out = {
            "brokers": sorted([[b["node_id"], b["host"], b["port"]] for b in cluster["brokers"]]),
            "controller_id": cluster["controller_id"],
        }
        t = topics[0] if topics else None
        out["exists"] = bool(t) and t["error_code"] == 0
        if t:
            out["error"] = t["error_code"] or None
            out["partitions"] = sorted(
                [
                    {
                        "id": p["partition"],
                        "leader": p["leader"],
                        "replicas": list(p["replicas"]),
                        "isrs": list(p["isr"]),
                        "error": p["error_code"] or None,
                    }
                    for p in t["partitions"]
                ],
                key=lambda p: p["id"],
            )
        if out["exists"]:
            try:
                resp = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, args["topic"])])
                res = resp[0].resources[0]
                if res[0] != 0:
                    out["config_error"] = {"code": res[0], "message": res[1]}
                else:
                    out["config"] = {e[0]: e[1] for e in res[4]}
            except Exception as e:  # noqa: BLE001
                out["config_error"] = err_info(e)
        return out
    finally:
        a.close()


def delete_topic(args):
    a = admin(args)
    try:
        resp = a.delete_topics([args["topic"]], timeout_ms=15000)
        errs = [[name, code] for name, code in resp.topic_error_codes if code != 0]
        if errs:
            return {"error": errs[0], "gone": False}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if args["topic"] not in a.list_topics():
                return {"error": None, "gone": True}
            time.sleep(0.2)
        return {"error": None, "gone": False}
    except Exception as e:  # noqa: BLE001
        return dict(err_info(e), gone=False)
    finally:
        a.close()


def do_produce(bootstrap, topic, records, config):
    conf = {"bootstrap_servers": bootstrap, "acks": "all", "linger_ms": 5, "retries": 3}
    conf.update(config or {})
    p = KafkaProducer(**conf)
    futures = []
    for r in records:
        kw = {}
        if r.get("partition") is not None:
            kw["partition"] = r["partition"]
        if r.get("timestamp") is not None:
            kw["timestamp_ms"] = r["timestamp"]
        if r.get("headers") is not None:
            kw["headers"] = common.headers_list(r["headers"])
        try:
            futures.append(
                p.send(
                    topic,
                    value=common.value_bytes(r.get("value")),
                    key=common.value_bytes(r.get("key")),
                    **kw,
                )
            )
        except Exception as e:  # noqa: BLE001 - client-side rejection
            futures.append(e)
    p.flush(timeout=45)
    results = []
    for f in futures:
        if isinstance(f, Exception):
            results.append(dict(err_info(f), local=True))
            continue
        try:
            md = f.get(timeout=30)
            results.append({"error": None, "partition": md.partition, "offset": md.offset, "timestamp": md.timestamp})
        except Exception as e:  # noqa: BLE001
            results.append(err_info(e))
    p.close(timeout=10)
    return results


def produce(args):
    return do_produce(args["bootstrap"], args["topic"], args["records"], args.get("config"))


def consumer(args):
    conf = {
        "bootstrap_servers": args["bootstrap"],
        "group_id": None,
        "enable_auto_commit": False,
        "auto_offset_reset": args.get("reset") or "earliest",
        "fetch_max_wait_ms": 100,
    }
    conf.update(args.get("config") or {})
    return KafkaConsumer(**conf)


def record_out(m):
    return {
        "partition": m.partition,
        "offset": m.offset,
        "timestamp": m.timestamp,
        "key": common.show(m.key),
        "value": common.show(m.value),
        "headers": common.show_headers(m.headers),
    }


def consume(args):
    c = consumer(args)
    topic = args["topic"]
    parts = args.get("partitions")
    if parts is None:
        deadline = time.monotonic() + 10
        while not c.partitions_for_topic(topic) and time.monotonic() < deadline:
            time.sleep(0.2)
        parts = sorted(c.partitions_for_topic(topic) or [])
    tps = [TopicPartition(topic, p) for p in parts]
    c.assign(tps)
    offset = args.get("offset")
    if offset == "beginning":
        c.seek_to_beginning(*tps)
    elif offset == "end":
        c.seek_to_end(*tps)
    elif offset is not None:
        for tp in tps:
            c.seek(tp, int(offset))
    want = args.get("max")
    until_eof = args.get("until_eof", want is None)
    to_produce = args.get("produce_when_positioned")
    produced = None
    if to_produce is not None:
        # position() blocks until the reset policy (or seek) has given each partition an offset.
        positions = {tp.partition: c.position(tp) for tp in tps}
        produced = do_produce(args["bootstrap"], topic, to_produce, None)
        if want is None:
            want = len(to_produce)
    else:
        positions = None
    ends = c.end_offsets(tps) if until_eof else None
    records = []
    deadline = time.monotonic() + args.get("timeout_s", 30)
    while time.monotonic() < deadline:
        if want is not None and len(records) >= want:
            break
        if until_eof and to_produce is None and all(c.position(tp) >= ends[tp] for tp in tps):
            break
        for tp, msgs in c.poll(timeout_ms=200).items():
            records.extend(record_out(m) for m in msgs)
    c.close()
    return {"records": records, "errors": [], "produced": produced, "positions": positions}


def offsets_for_times(args):
    c = consumer(args)
    tp = TopicPartition(args["topic"], args["partition"])
    out = []
    for ts in args["timestamps"]:
        r = c.offsets_for_times({tp: ts})[tp]
        out.append(-1 if r is None else r.offset)
    c.close()
    return out


def watermarks(args):
    c = consumer(args)
    tp = TopicPartition(args["topic"], args["partition"])
    lo, hi = c.beginning_offsets([tp])[tp], c.end_offsets([tp])[tp]
    c.close()
    return [lo, hi]


if __name__ == "__main__":
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
