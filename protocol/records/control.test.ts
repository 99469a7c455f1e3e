import assert from "node:assert/strict";
import { test } from "node:test";
import { NO_SEQUENCE, validateBatch } from "./batch.ts";
import {
  ControlRecordType,
  buildEndTxnMarkerBatch,
  decodeControlKey,
  decodeEndTxnMarker,
  encodeControlKey,
  encodeEndTxnMarker,
} from "./control.ts";
import { iterateRecords, validateRecords } from "./record.ts";
import { assertBatchError } from "./testing.ts";

test("transaction marker batches round-trip", () => {
  for (const commit of [true, false]) {
    const buf = buildEndTxnMarkerBatch({
      commit,
      producerId: 4000n,
      producerEpoch: 7,
      coordinatorEpoch: 12,
      baseOffset: 300n,
      partitionLeaderEpoch: 2,
      timestamp: 1_700_000_000_000n,
    });
    const header = validateBatch(buf);
    assert.equal(header.isControl, true);
    assert.equal(header.isTransactional, true);
    assert.equal(header.producerId, 4000n);
    assert.equal(header.producerEpoch, 7);
    assert.equal(header.baseSequence, NO_SEQUENCE);
    assert.equal(header.recordCount, 1);
    assert.equal(header.baseOffset, 300n);
    assert.equal(header.partitionLeaderEpoch, 2);
    assert.equal(validateRecords(header).recordCount, 1);
    const [record] = iterateRecords(header);
    assert.equal(record.offset, 300n);
    assert.equal(record.timestamp, 1_700_000_000_000n);
    assert.deepEqual(decodeControlKey(record.key), {
      version: 0,
      type: commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT,
    });
    assert.deepEqual(decodeEndTxnMarker(record.value), { version: 0, coordinatorEpoch: 12 });
    // Clients may not produce these.
    assertBatchError(() => validateBatch(buf, 0, { produce: true }), "INVALID_RECORD");
  }
});

test("control keys and marker values: exact bytes, newer versions, bad input", () => {
  assert.deepEqual(encodeControlKey(ControlRecordType.COMMIT), Buffer.from([0, 0, 0, 1]));
  assert.deepEqual(encodeEndTxnMarker(258), Buffer.from([0, 0, 0, 0, 1, 2]));
  // Later versions may append fields; types this code does not know still decode.
  assert.deepEqual(decodeControlKey(Buffer.from([0, 1, 0, 99, 7, 7])), { version: 1, type: 99 });
  assert.deepEqual(decodeEndTxnMarker(Buffer.from([0, 1, 0, 0, 0, 5, 9])), {
    version: 1,
    coordinatorEpoch: 5,
  });
  for (const key of [null, Buffer.alloc(3), Buffer.from([0xff, 0xff, 0, 0])]) {
    assertBatchError(() => decodeControlKey(key), "INVALID_RECORD");
  }
  for (const value of [null, Buffer.alloc(5), Buffer.from([0x80, 0, 0, 0, 0, 0])]) {
    assertBatchError(() => decodeEndTxnMarker(value), "INVALID_RECORD");
  }
});
