// Metadata snapshots on disk, as KRaft names and frames them: the state machine's
// records as of `endOffset` (exclusive; the last record it covers was written in
// `epoch`) in `<endOffset, 20 digits>-<epoch, 10 digits>.checkpoint` beside the
// metadata log, as record batches: a SnapshotHeader control batch, the records, a
// SnapshotFooter control batch. A snapshot is written (or received from the leader)
// as `.checkpoint.part` and renamed once whole, so a `.checkpoint` file is always
// complete.
import { open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { buildRecordBatch } from "../../protocol/records/record.ts";
import { iterateRecords } from "../../protocol/records/record.ts";
import { splitBatches } from "../../protocol/records/batch.ts";
import { fsyncDir } from "../log/atomic-file.ts";
import { snapshotFooterBatch, snapshotHeaderBatch } from "./control-records.ts";

export interface SnapshotId {
  endOffset: number;
  epoch: number;
}

const SUFFIX = ".checkpoint";
const PART_SUFFIX = ".checkpoint.part";
/** Records per batch in a snapshot file. */
const RECORDS_PER_BATCH = 1000;

export function snapshotFileName(id: SnapshotId): string {
  return `${String(id.endOffset).padStart(20, "0")}-${String(id.epoch).padStart(10, "0")}${SUFFIX}`;
}

export function snapshotPath(dir: string, id: SnapshotId): string {
  return path.join(dir, snapshotFileName(id));
}

/** The snapshot id a file name stands for, or null if it is not a snapshot file. */
export function parseSnapshotFileName(name: string): SnapshotId | null {
  const m = /^(\d{20})-(\d{10})\.checkpoint$/.exec(name);
  return m ? { endOffset: Number(m[1]), epoch: Number(m[2]) } : null;
}

export function sameSnapshot(a: SnapshotId | null, b: SnapshotId | null): boolean {
  return a !== null && b !== null && a.endOffset === b.endOffset && a.epoch === b.epoch;
}

/** The complete snapshots in `dir`, oldest first; unfinished `.part` files are deleted. */
export async function listSnapshots(dir: string): Promise<SnapshotId[]> {
  const out: SnapshotId[] = [];
  for (const name of await readdir(dir)) {
    if (name.endsWith(PART_SUFFIX)) {
      await rm(path.join(dir, name), { force: true });
      continue;
    }
    const id = parseSnapshotFileName(name);
    if (id) out.push(id);
  }
  return out.sort((a, b) => a.endOffset - b.endOffset || a.epoch - b.epoch);
}

/** Writes a snapshot holding `values` (metadata record values) durably, then renames it into place. */
export async function writeSnapshot(
  dir: string,
  id: SnapshotId,
  values: Iterable<Buffer>,
  lastContainedLogTimestamp: number,
): Promise<void> {
  const batches: Buffer[] = [snapshotHeaderBatch(lastContainedLogTimestamp, id.epoch)];
  let offset = 1n;
  let pending: Buffer[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    batches.push(
      buildRecordBatch({
        records: pending.map((value) => ({ key: null, value })),
        baseOffset: offset,
        partitionLeaderEpoch: id.epoch,
      }),
    );
    offset += BigInt(pending.length);
    pending = [];
  };
  for (const v of values) {
    pending.push(v);
    if (pending.length >= RECORDS_PER_BATCH) flush();
  }
  flush();
  batches.push(snapshotFooterBatch(id.epoch, offset));
  await writeWhole(dir, id, Buffer.concat(batches));
}

async function writeWhole(dir: string, id: SnapshotId, bytes: Buffer): Promise<void> {
  const part = snapshotPath(dir, id) + ".part";
  const fh = await open(part, "w");
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(part, snapshotPath(dir, id));
  await fsyncDir(dir);
}

/** The size of a snapshot file in bytes. */
export async function snapshotSize(dir: string, id: SnapshotId): Promise<number> {
  return (await stat(snapshotPath(dir, id))).size;
}

/** Up to `maxBytes` of a snapshot file from `position` (FetchSnapshot serves it unaligned). */
export async function readSnapshotChunk(
  dir: string,
  id: SnapshotId,
  position: number,
  maxBytes: number,
): Promise<{ bytes: Buffer; size: number }> {
  const fh = await open(snapshotPath(dir, id), "r");
  try {
    const size = (await fh.stat()).size;
    const n = Math.max(0, Math.min(maxBytes, size - position));
    const bytes = Buffer.alloc(n);
    if (n > 0) await fh.read(bytes, 0, n, position);
    return { bytes, size };
  } finally {
    await fh.close();
  }
}

/** The data record values of a snapshot, in order (its control records left out). */
export async function readSnapshotValues(dir: string, id: SnapshotId): Promise<Buffer[]> {
  const fh = await open(snapshotPath(dir, id), "r");
  let bytes: Buffer;
  try {
    bytes = await fh.readFile();
  } finally {
    await fh.close();
  }
  const out: Buffer[] = [];
  let sawFooter = false;
  for (const b of splitBatches(bytes).batches) {
    if (b.isControl) {
      sawFooter = true;
      continue;
    }
    for (const r of iterateRecords(b)) if (r.value !== null) out.push(r.value);
  }
  if (!sawFooter) throw new Error(`snapshot ${snapshotFileName(id)} has no control records`);
  return out;
}

/**
 * A snapshot being received from the leader in chunks (FetchSnapshot): written at the
 * given positions into the `.part` file, renamed into place when complete.
 */
export class SnapshotReceiver {
  readonly id: SnapshotId;
  private readonly dir: string;
  private written = 0;

  constructor(dir: string, id: SnapshotId) {
    this.dir = dir;
    this.id = id;
  }

  get position(): number {
    return this.written;
  }

  async write(position: number, bytes: Buffer): Promise<void> {
    if (position !== this.written) throw new Error(`snapshot chunk at ${position}, expected ${this.written}`);
    const fh = await open(snapshotPath(this.dir, this.id) + ".part", position === 0 ? "w" : "r+");
    try {
      await fh.write(bytes, 0, bytes.length, position);
      await fh.sync();
    } finally {
      await fh.close();
    }
    this.written += bytes.length;
  }

  /** Checks the received bytes frame as whole batches, then makes the snapshot visible. */
  async complete(): Promise<void> {
    const part = snapshotPath(this.dir, this.id) + ".part";
    const fh = await open(part, "r");
    try {
      splitBatches(await fh.readFile());
    } finally {
      await fh.close();
    }
    await rename(part, snapshotPath(this.dir, this.id));
    await fsyncDir(this.dir);
  }

  async abandon(): Promise<void> {
    await rm(snapshotPath(this.dir, this.id) + ".part", { force: true });
  }
}

export async function deleteSnapshot(dir: string, id: SnapshotId): Promise<void> {
  await rm(snapshotPath(dir, id), { force: true });
}
