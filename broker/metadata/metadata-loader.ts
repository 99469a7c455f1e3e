// Every broker's view of the cluster metadata follows the committed metadata log (the
// KRaft MetadataLoader): committed records are decoded and applied to the image in
// log order, and what changed goes to the parts of the broker that act on it (the
// replica manager opens, leads, follows or deletes partitions). A snapshot replaces
// the whole image; the difference from the old one is published as changes, so a
// broker that was far behind ends up where replaying the log would have left it.
// Every so often the loader asks for a snapshot of its own image, so the log can be
// trimmed.
import type { Logger } from "../../lib/logger.ts";
import type { CommittedBatch, LeaderAndEpoch, RaftListener } from "../raft/raft-client.ts";
import type { SnapshotId } from "../raft/snapshot-files.ts";
import { type MetadataChange, MetadataImage } from "./image.ts";
import { decodeMetadataRecord } from "./records.ts";

export interface MetadataLoaderOptions {
  image: MetadataImage;
  /** Acts on changes; the next batch is not applied until it resolves. */
  publish: (changes: MetadataChange[]) => Promise<void> | void;
  logger: Logger;
  /** Called after every batch, e.g. to take a snapshot now and then. */
  afterBatch?: (bytesSinceLastCall: number) => void;
  onLeaderChange?: (leader: LeaderAndEpoch) => void;
}

export class MetadataLoader implements RaftListener {
  private readonly opts: MetadataLoaderOptions;
  /** The offset after the last record applied. */
  nextOffset = 0;

  constructor(opts: MetadataLoaderOptions) {
    this.opts = opts;
  }

  get image(): MetadataImage {
    return this.opts.image;
  }

  async handleCommit(batch: CommittedBatch): Promise<void> {
    const changes: MetadataChange[] = [];
    let bytes = 0;
    // Metadata batches have no gaps: record i is at baseOffset + i.
    const first = batch.lastOffset + 1 - batch.values.length;
    batch.values.forEach((value, i) => {
      bytes += value.length;
      let rec;
      try {
        rec = decodeMetadataRecord(value);
      } catch (e) {
        this.opts.logger.error("skipping an undecodable metadata record", { offset: first + i, error: e });
        return;
      }
      if (rec) changes.push(...this.image.apply(rec, first + i));
    });
    this.image.lastOffset = Math.max(this.image.lastOffset, batch.lastOffset);
    this.nextOffset = batch.lastOffset + 1;
    if (changes.length > 0) await this.opts.publish(changes);
    this.opts.afterBatch?.(bytes);
  }

  async handleLoadSnapshot(snapshot: { id: SnapshotId; values: Buffer[] }): Promise<void> {
    const fresh = new MetadataImage();
    snapshot.values.forEach((value, i) => {
      const rec = decodeMetadataRecord(value);
      if (rec) fresh.apply(rec, i);
    });
    fresh.lastOffset = snapshot.id.endOffset - 1;
    const changes = replaceImage(this.image, fresh);
    this.nextOffset = snapshot.id.endOffset;
    this.opts.logger.info("loaded a metadata snapshot", {
      endOffset: snapshot.id.endOffset,
      topics: this.image.topicsByName.size,
      brokers: this.image.brokers.size,
    });
    await this.opts.publish(changes);
  }

  handleLeaderChange(leader: LeaderAndEpoch): void {
    this.opts.onLeaderChange?.(leader);
  }
}

/**
 * Makes `image` equal to `fresh` (the same object: the broker holds on to it) and
 * returns the changes that take the old state to the new one.
 */
export function replaceImage(image: MetadataImage, fresh: MetadataImage): MetadataChange[] {
  const changes: MetadataChange[] = [];
  for (const old of image.topicsById.values()) {
    if (!fresh.topicsById.has(old.id)) changes.push({ kind: "topic-deleted", topic: old });
  }
  for (const t of fresh.topicsById.values()) {
    const old = image.topicsById.get(t.id);
    if (!old) changes.push({ kind: "topic-created", topic: t });
    for (const p of t.partitions) if (p) changes.push({ kind: "partition-changed", topic: t, partition: p });
    if (!old || JSON.stringify([...old.configs]) !== JSON.stringify([...t.configs])) {
      changes.push({ kind: "topic-config-changed", topic: t });
    }
  }
  for (const b of fresh.brokers.values()) changes.push({ kind: "broker-changed", broker: b });
  image.topicsById.clear();
  image.topicsByName.clear();
  for (const t of fresh.topicsById.values()) {
    image.topicsById.set(t.id, t);
    image.topicsByName.set(t.name, t);
  }
  image.brokers.clear();
  for (const [id, b] of fresh.brokers) image.brokers.set(id, b);
  image.brokerConfigs.clear();
  for (const [k, v] of fresh.brokerConfigs) image.brokerConfigs.set(k, v);
  image.nextProducerId = fresh.nextProducerId;
  image.lastOffset = fresh.lastOffset;
  return changes;
}
