// The static voter set of the metadata quorum, from controller.quorum.voters
// ("id@host:port,..."), as Kafka configures it before KIP-853's dynamic quorums.
import type { NodeAddress } from "../network/node-client.ts";

export type VoterSet = ReadonlyMap<number, NodeAddress>;

/** Parses controller.quorum.voters entries; throws with every problem found. */
export function parseVoters(entries: readonly string[]): Map<number, NodeAddress> {
  const voters = new Map<number, NodeAddress>();
  const problems: string[] = [];
  for (const entry of entries) {
    const m = /^(\d+)@(\[[^\]]+\]|[^:@]+):(\d+)$/.exec(entry.trim());
    if (!m) {
      problems.push(`${JSON.stringify(entry)} is not id@host:port`);
      continue;
    }
    const id = Number(m[1]);
    const port = Number(m[3]);
    if (port <= 0 || port > 65535) problems.push(`${entry}: port ${port} is out of range`);
    if (voters.has(id)) problems.push(`voter ${id} is listed twice`);
    voters.set(id, { host: m[2].replace(/^\[|\]$/g, ""), port });
  }
  if (problems.length > 0) throw new Error(`controller.quorum.voters: ${problems.join("; ")}`);
  return voters;
}

/** How many voters make a majority. */
export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}
