// Produce (0): appends each partition's record batches (magic 2 only: v3+) and answers
// with the base offset per partition, for acks=all once every in-sync replica has them
// (within the request's timeout). acks=0 gets no response at all, as clients expect.
import { Produce } from "../../protocol/generated/apis.ts";
import type { ProduceRequest } from "../../protocol/generated/messages/ProduceRequest.ts";
import type {
  PartitionProduceResponse,
  ProduceResponse,
  TopicProduceResponse,
} from "../../protocol/generated/messages/ProduceResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode, KafkaError, errorCodeOf, errorMessageOf } from "../errors.ts";
import type { Handler } from "./handler.ts";

export const produce: Handler<ProduceRequest, ProduceResponse, Broker> = {
  api: Produce,
  minVersion: 3,
  maxVersion: 9,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const v = ctx.apiVersion;
    const transactional = req.transactionalId !== null && req.transactionalId !== "";
    const responses: TopicProduceResponse[] = await Promise.all(
      req.topicData.map(async (t) => ({
        name: t.name,
        partitionResponses: await Promise.all(
          t.partitionData.map(async (pd): Promise<PartitionProduceResponse> => {
            const base = {
              index: pd.index,
              recordErrors: [],
              currentLeader: { leaderId: -1, leaderEpoch: -1 },
            };
            try {
              if (transactional) {
                throw new KafkaError("INVALID_TXN_STATE", "Transactional produce is not supported yet.");
              }
              const r = await broker.replicas.appendRecords(
                t.name,
                pd.index,
                pd.records,
                req.acks,
                req.timeoutMs > 0 ? req.timeoutMs : 30_000,
              );
              return {
                ...base,
                errorCode: ErrorCode.NONE,
                baseOffset: BigInt(r.baseOffset),
                logAppendTimeMs: BigInt(r.logAppendTime),
                logStartOffset: v >= 5 ? BigInt(r.logStartOffset) : -1n,
                errorMessage: null,
              };
            } catch (err) {
              if (!(err instanceof KafkaError)) {
                broker.log.error("produce failed", {
                  topic: t.name,
                  partition: pd.index,
                  error: errorMessageOf(err),
                });
              }
              return {
                ...base,
                errorCode: errorCodeOf(err),
                baseOffset: -1n,
                logAppendTimeMs: -1n,
                logStartOffset: -1n,
                errorMessage: v >= 8 ? errorMessageOf(err) : null,
              };
            }
          }),
        ),
      })),
    );
    if (req.acks === 0) return undefined;
    return { responses, throttleTimeMs: 0, nodeEndpoints: [] };
  },
};
