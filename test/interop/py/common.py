"""Helpers shared by the *_ops.py scripts of the interop suites (run with /usr/bin/python3).

Every ops script is called as `python3 SCRIPT OP JSON_ARGS` and prints one JSON document
{"result": ...} as the last line of stdout; a crash prints a traceback and exits non-zero.
"""
import hashlib
import json
import sys
import time


def value_bytes(spec):
    """A record key/value from JSON: null, a string, or {"size": N, "fill": "x"}."""
    if spec is None:
        return None
    if isinstance(spec, dict):
        fill = spec.get("fill", "x").encode()
        n = int(spec["size"])
        return (fill * (n // len(fill) + 1))[:n]
    return str(spec).encode()


def headers_list(spec):
    """[[key, value-or-null], ...] -> [(str, bytes-or-None)]; None stays None."""
    if spec is None:
        return None
    return [(k, None if v is None else str(v).encode()) for k, v in spec]


def show(b, limit=4096):
    """Bytes for the JSON answer: short ones as text, long ones as a length and a digest."""
    if b is None:
        return None
    if len(b) > limit:
        return {"len": len(b), "sha256": hashlib.sha256(b).hexdigest()}
    return b.decode("utf-8", "replace")


def show_headers(hs):
    if not hs:
        return []
    return [[k, None if v is None else v.decode("utf-8", "replace")] for k, v in hs]


def digest(spec):
    """What show() would print for a value spec, to compare with."""
    return show(value_bytes(spec))


def main(ops):
    if len(sys.argv) != 3 or sys.argv[1] not in ops:
        print("usage: %s OP JSON   (OP: %s)" % (sys.argv[0], ", ".join(sorted(ops))), file=sys.stderr)
        sys.exit(2)
    args = json.loads(sys.argv[2])
    started = time.monotonic()
    result = ops[sys.argv[1]](args)
    sys.stdout.flush()
    print(json.dumps({"result": result, "seconds": round(time.monotonic() - started, 3)}))
    sys.stdout.flush()
