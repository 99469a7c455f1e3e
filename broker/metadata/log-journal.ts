// The metadata journal on disk: KRaft's `__cluster_metadata-0` log in the metadata log
// dir, one record batch per controller commit, so a commit is atomic (a torn batch is
// cut off by recovery as a whole). Replayed in order at start to rebuild the image.
import { join } from "node:path";
import { mkdir } from "node:fs/promises";
import type { Logger } from "../../lib/logger.ts";
import { buildRecordBatch, iterateRecords, splitBatches } from "../../protocol/records/index.ts";
import { DEFAULT_LOG_CONFIG, Log } from "../log/log.ts";
import type { MetadataJournal } from "./controller.ts";
import { type MetadataRecord, decodeMetadataRecord, encodeMetadataRecord } from "./records.ts";

export const METADATA_TOPIC = "__cluster_metadata";

/** Bytes read per step while replaying. */
const REPLAY_CHUNK = 1 << 20;

export class MetadataLogJournal implements MetadataJournal {
  private readonly log: Log;
  private readonly logger: Logger;

  private constructor(log: Log, logger: Logger) {
    this.log = log;
    this.logger = logger;
  }

  static async open(metadataLogDir: string, logger: Logger): Promise<MetadataLogJournal> {
    const dir = join(metadataLogDir, `${METADATA_TOPIC}-0`);
    await mkdir(dir, { recursive: true });
    const log = await Log.open(
      dir,
      { ...DEFAULT_LOG_CONFIG, "retention.ms": -1, "retention.bytes": -1, "flush.messages": 1 },
      { logger },
    );
    return new MetadataLogJournal(log, logger);
  }

  /** Calls `apply` for every record in the log, in order. */
  async replay(apply: (rec: MetadataRecord, offset: number) => void): Promise<number> {
    let offset = this.log.logStartOffset;
    let count = 0;
    while (offset < this.log.logEndOffset) {
      const { records } = await this.log.read(offset, REPLAY_CHUNK, { minOneBatch: true });
      if (records.length === 0) break;
      for (const b of splitBatches(records).batches) {
        for (const r of iterateRecords(b)) {
          if (r.offset < BigInt(offset) || r.value === null) continue;
          const rec = decodeMetadataRecord(r.value);
          if (rec) apply(rec, Number(r.offset));
          count++;
        }
        offset = Number(b.nextOffset);
      }
    }
    this.logger.info("metadata log replayed", { records: count, endOffset: this.log.logEndOffset });
    return count;
  }

  async append(records: MetadataRecord[]): Promise<number> {
    const batch = buildRecordBatch({
      records: records.map((r) => ({ key: null, value: encodeMetadataRecord(r) })),
    });
    const result = await this.log.append(batch, {
      leaderEpoch: 0,
      timestampType: "CreateTime",
      now: Date.now(),
    });
    // A controller commit is durable before it is applied or answered.
    await this.log.flush();
    return result.firstOffset;
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
