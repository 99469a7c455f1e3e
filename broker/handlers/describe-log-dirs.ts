// DescribeLogDirs (35): the log dirs with the size of every partition in each, and
// (v4+) each dir's total and usable bytes.
import { statfs } from "node:fs/promises";
import { dirname } from "node:path";
import { DescribeLogDirs } from "../../protocol/generated/apis.ts";
import type { DescribeLogDirsRequest } from "../../protocol/generated/messages/DescribeLogDirsRequest.ts";
import type {
  DescribeLogDirsResponse,
  DescribeLogDirsResult,
} from "../../protocol/generated/messages/DescribeLogDirsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const describeLogDirs: Handler<DescribeLogDirsRequest, DescribeLogDirsResponse, Broker> = {
  api: DescribeLogDirs,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const wanted =
      req.topics === null
        ? null
        : new Set(req.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p}`)));
    const results: DescribeLogDirsResult[] = [];
    for (const dir of broker.config.logDirs()) {
      const byTopic = new Map<
        string,
        Array<{ partitionIndex: number; partitionSize: bigint; offsetLag: bigint; isFutureKey: boolean }>
      >();
      for (const p of broker.replicas.all()) {
        if (dirname(p.log.dir) !== dir.replace(/\/+$/, "")) continue;
        if (wanted && !wanted.has(`${p.topic}-${p.index}`)) continue;
        const list = byTopic.get(p.topic) ?? [];
        list.push({
          partitionIndex: p.index,
          partitionSize: BigInt(p.log.size),
          offsetLag: 0n,
          isFutureKey: false,
        });
        byTopic.set(p.topic, list);
      }
      let totalBytes = -1n;
      let usableBytes = -1n;
      if (ctx.apiVersion >= 4) {
        const fs = await statfs(dir, { bigint: true }).catch(() => null);
        if (fs) {
          totalBytes = fs.blocks * fs.bsize;
          usableBytes = fs.bavail * fs.bsize;
        }
      }
      results.push({
        errorCode: ErrorCode.NONE,
        logDir: dir,
        topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
        totalBytes,
        usableBytes,
      });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results };
  },
};
