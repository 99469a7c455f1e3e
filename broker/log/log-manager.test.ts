import assert from "node:assert/strict";
import { appendFile, mkdir, readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { setBaseOffset } from "../../protocol/records/index.ts";
import { readMetaProperties } from "./checkpoints.ts";
import type { AppendOptions } from "./log.ts";
import { DEFAULT_LOG_CONFIG, type LogConfig } from "./log-config.ts";
import { LogManager, type LogManagerOptions } from "./log-manager.ts";
import { captureLogger, tempDir, testBatch } from "./testing.ts";

const CONFIG: LogConfig = { ...DEFAULT_LOG_CONFIG, "segment.bytes": 1024, "file.delete.delay.ms": 0 };
const OPTS: AppendOptions = { leaderEpoch: 0, timestampType: "CreateTime", now: 1_700_000_000_000 };

async function withDirs(n: number, fn: (dirs: string[]) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir("capstan-logmgr-");
  try {
    await fn(Array.from({ length: n }, (_, i) => path.join(dir, `data${i}`)));
  } finally {
    await cleanup();
  }
}

function open(dirs: string[], extra: Partial<LogManagerOptions> = {}): Promise<LogManager> {
  return LogManager.open({
    logDirs: dirs,
    nodeId: 1,
    logger: captureLogger(),
    defaultConfig: CONFIG,
    scheduler: false,
    ...extra,
  });
}

describe("LogManager", () => {
  it("formats empty log dirs with meta.properties and keeps the cluster id", () =>
    withDirs(2, async (dirs) => {
      const manager = await open(dirs);
      const metas = await Promise.all(dirs.map((d) => readMetaProperties(d)));
      assert.equal(metas[0]?.version, 1);
      assert.equal(metas[0]?.clusterId, manager.clusterId);
      assert.equal(metas[1]?.clusterId, manager.clusterId);
      assert.equal(metas[0]?.nodeId, 1);
      assert.notEqual(metas[0]?.directoryId, metas[1]?.directoryId);
      await manager.shutdown();
      const again = await open(dirs);
      assert.equal(again.clusterId, manager.clusterId);
      await again.shutdown();
      await assert.rejects(open(dirs, { nodeId: 2 }), /node\.id/);
      await assert.rejects(open(dirs, { clusterId: "AAAAAAAAAAAAAAAAAAAAAQ" }), /different clusters/);
    }));

  it("spreads new partitions over the log dirs and finds them again after a clean restart", () =>
    withDirs(2, async (dirs) => {
      const manager = await open(dirs);
      assert.equal(manager.hadCleanShutdown(dirs[0]), false);
      for (let p = 0; p < 4; p++) {
        const log = await manager.getOrCreateLog("orders", p, "MZ4kzeCxS9-bBDrq8vOhNA");
        for (let i = 0; i <= p; i++) await log.append(testBatch({ count: 2 }), OPTS);
      }
      assert.equal(
        await manager.getOrCreateLog("orders", 0),
        manager.getLog("orders", 0),
        "the same log again",
      );
      const placed = [0, 1, 2, 3].map((p) => manager.logDirOf("orders", p));
      assert.deepEqual(
        placed,
        [dirs[0], dirs[1], dirs[0], dirs[1]].map((d) => path.resolve(d)),
      );
      await manager.shutdown();

      for (const d of dirs) {
        assert.deepEqual(JSON.parse(await readFile(path.join(d, ".kafka_cleanshutdown"), "utf8")), {
          version: 0,
          brokerEpoch: -1,
        });
      }
      assert.equal(
        await readFile(path.join(dirs[0], "recovery-point-offset-checkpoint"), "utf8"),
        "0\n2\norders 0 2\norders 2 6\n",
      );
      assert.equal(await readFile(path.join(dirs[0], "log-start-offset-checkpoint"), "utf8"), "0\n0\n");

      const logger = captureLogger();
      const again = await open(dirs, { logger });
      assert.equal(again.hadCleanShutdown(dirs[0]), true);
      assert.ok(
        !(await readdir(dirs[0])).includes(".kafka_cleanshutdown"),
        "the marker is consumed at start",
      );
      assert.deepEqual(
        again
          .allLogs()
          .map((l) => `${l.topic}-${l.partition}@${l.logEndOffset}`)
          .sort(),
        ["orders-0@2", "orders-1@4", "orders-2@6", "orders-3@8"],
      );
      assert.equal(again.getLog("orders", 3)?.topicId, "MZ4kzeCxS9-bBDrq8vOhNA");
      assert.equal(logger.lines.filter((l) => l.level === "warn").length, 0);
      await again.shutdown();
    }));

  it("recovers logs after an unclean shutdown (no marker)", () =>
    withDirs(1, async (dirs) => {
      const manager = await open(dirs);
      const log = await manager.getOrCreateLog("events", 0);
      for (let i = 0; i < 5; i++) await log.append(testBatch({ count: 2 }), OPTS);
      await manager.checkpointRecoveryPoints();
      await log.closeHandlers(); // the process dies: no shutdown, no marker
      const torn = testBatch({ count: 2 });
      setBaseOffset(torn, 0, 10n);
      await appendFile(path.join(log.dir, "00000000000000000000.log"), torn.subarray(0, 30));

      const logger = captureLogger();
      const again = await open(dirs, { logger });
      assert.equal(again.hadCleanShutdown(dirs[0]), false);
      assert.equal(again.getLog("events", 0)?.logEndOffset, 10);
      const warning = logger.lines.find((l) => l.level === "warn" && l.msg.includes("truncated"));
      assert.ok(warning);
      assert.equal(warning.fields.file, path.join(log.dir, "00000000000000000000.log"));
      await again.shutdown();
    }));

  it("deletes a partition by renaming its directory to -delete, then removing it", () =>
    withDirs(1, async (dirs) => {
      const manager = await open(dirs);
      const log = await manager.getOrCreateLog("gone", 3);
      await log.append(testBatch(), OPTS);
      await manager.deleteLog("gone", 3);
      assert.equal(manager.getLog("gone", 3), undefined);
      const names = await readdir(dirs[0]);
      assert.ok(!names.includes("gone-3"));
      const pending = names.filter((n) => n.startsWith("gone-3."));
      assert.ok(
        pending.every((n) => /^gone-3\.[0-9a-f]{32}-delete$/.test(n)),
        names.join(","),
      );
      await manager.shutdown(); // waits for the background removal
      assert.deepEqual(
        (await readdir(dirs[0])).filter((n) => n.startsWith("gone")),
        [],
      );
      const recreated = await open(dirs);
      assert.equal(recreated.getLog("gone", 3), undefined);
      assert.equal(
        (await recreated.getOrCreateLog("gone", 3)).logEndOffset,
        0,
        "a new topic of that name starts empty",
      );
      await recreated.shutdown();
    }));

  it("removes -delete directories left by a crash, and leaves the metadata log alone", () =>
    withDirs(1, async (dirs) => {
      await mkdir(path.join(dirs[0], "old-0.0123456789abcdef0123456789abcdef-delete"), { recursive: true });
      await mkdir(path.join(dirs[0], "__cluster_metadata-0"), { recursive: true });
      const manager = await open(dirs);
      assert.deepEqual(manager.allLogs(), []);
      await manager.shutdown();
      assert.deepEqual(
        (await readdir(dirs[0])).filter(
          (n) => !n.startsWith(".") && !n.includes("checkpoint") && n !== "meta.properties",
        ),
        ["__cluster_metadata-0"],
      );
    }));

  it("applies retention to every log and checkpoints the moved log start offsets", () =>
    withDirs(1, async (dirs) => {
      const manager = await open(dirs, { defaultConfig: { ...CONFIG, "retention.ms": 1000 } });
      const log = await manager.getOrCreateLog("metrics", 0);
      for (let i = 0; i < 40; i++)
        await log.append(testBatch({ count: 2, timestamp: 1_000, valueSize: 30 }), OPTS);
      const segments = log.numberOfSegments;
      assert.ok(segments > 2);
      assert.equal(await manager.cleanupLogs(10_000), segments - 1);
      assert.equal(log.numberOfSegments, 1);
      await log.deleteRecordsBefore(log.logStartOffset + 1);
      await manager.checkpointLogStartOffsets();
      assert.equal(
        await readFile(path.join(dirs[0], "log-start-offset-checkpoint"), "utf8"),
        `0\n1\nmetrics 0 ${log.logStartOffset}\n`,
      );
      await manager.shutdown();
      const again = await open(dirs);
      assert.equal(again.getLog("metrics", 0)?.logStartOffset, log.logStartOffset);
      await again.shutdown();
    }));

  it("runs its periodic tasks on timers", () =>
    withDirs(1, async (dirs) => {
      const manager = await open(dirs, { scheduler: true, recoveryPointCheckpointIntervalMs: 20 });
      const log = await manager.getOrCreateLog("timed", 0);
      await log.append(testBatch(), OPTS);
      await log.flush();
      const file = path.join(dirs[0], "recovery-point-offset-checkpoint");
      for (let i = 0; i < 50; i++) {
        const text = await readFile(file, "utf8").catch(() => "");
        if (text.includes("timed 0 1")) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(await readFile(file, "utf8"), "0\n1\ntimed 0 1\n");
      await manager.shutdown();
      assert.ok((await stat(path.join(dirs[0], ".kafka_cleanshutdown"))).isFile());
    }));
});
