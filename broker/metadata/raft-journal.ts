// The controller's journal when the metadata log is a Raft quorum: a change is
// appended by the leader as one batch (all or nothing) and counts once it is
// committed, that is on a majority of voters, and applied to this node's image by
// the metadata loader, so the controller validates the next change against it.
import type { RaftClient } from "../raft/raft-client.ts";
import type { MetadataJournal } from "./controller.ts";
import { type MetadataRecord, encodeMetadataRecord } from "./records.ts";

export class RaftJournal implements MetadataJournal {
  private readonly raft: () => RaftClient;

  constructor(raft: () => RaftClient) {
    this.raft = raft;
  }

  /** Commits `records`; resolves with the offset of the first once applied here. Rejects with NotLeaderError. */
  async append(records: MetadataRecord[]): Promise<number> {
    const lastOffset = await this.raft().appendAndWait(records.map(encodeMetadataRecord));
    return lastOffset - records.length + 1;
  }
}
