// The `quorum-state` file in the metadata log dir: the election state a voter must
// never forget across a restart (the epoch it is in, whom it voted for, the leader it
// knows), in the JSON shape Kafka writes (QuorumStateData, data_version 0), so a
// Kafka operator's tools read it. Written atomically before the vote or leadership
// it records is acted on.
import path from "node:path";
import { readFileIfExists, writeFileAtomically } from "../log/atomic-file.ts";

export const QUORUM_STATE_FILE = "quorum-state";

export interface ElectionState {
  epoch: number;
  /** The voter this node voted for in `epoch`, -1 for none. */
  votedId: number;
  /** The leader of `epoch`, -1 if unknown. */
  leaderId: number;
}

export const NO_ELECTION: ElectionState = { epoch: 0, votedId: -1, leaderId: -1 };

export class QuorumStateStore {
  readonly file: string;
  private readonly voters: readonly number[];

  constructor(dir: string, voters: readonly number[]) {
    this.file = path.join(dir, QUORUM_STATE_FILE);
    this.voters = [...voters].sort((a, b) => a - b);
  }

  /** The stored state, or NO_ELECTION for a node that never took part in one. */
  async read(): Promise<ElectionState> {
    const text = await readFileIfExists(this.file);
    if (text === null) return NO_ELECTION;
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${this.file} is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
    const int = (k: string, dflt: number): number => {
      const v = data[k];
      if (v === undefined) return dflt;
      if (typeof v !== "number" || !Number.isInteger(v))
        throw new Error(`${this.file}: ${k} is not an integer`);
      return v;
    };
    return { epoch: int("leaderEpoch", 0), votedId: int("votedId", -1), leaderId: int("leaderId", -1) };
  }

  async write(state: ElectionState): Promise<void> {
    const data = {
      clusterId: "",
      leaderId: state.leaderId,
      leaderEpoch: state.epoch,
      votedId: state.votedId,
      appliedOffset: 0,
      currentVoters: this.voters.map((voterId) => ({ voterId })),
      data_version: 0,
    };
    await writeFileAtomically(this.file, JSON.stringify(data));
  }
}
