// Where a group lives: Kafka places group G on __consumer_offsets partition
// Utils.abs(G.hashCode()) % N, with Java's String.hashCode (s[0]*31^(n-1) + ... over
// UTF-16 code units, in 32-bit two's complement) and Kafka's Utils.abs, which maps
// Integer.MIN_VALUE to 0 rather than leaving it negative. Clients never compute this
// (they ask FindCoordinator), but tools that read __consumer_offsets, and a cluster
// moving between Kafka and Capstan, rely on the same group landing on the same partition.

/** Java's String.hashCode. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  // charCodeAt yields UTF-16 code units, exactly what Java's String holds.
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs: the absolute value, with Integer.MIN_VALUE mapped to 0. */
export function kafkaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}

/** The __consumer_offsets partition that coordinates `groupId` among `numPartitions`. */
export function groupPartition(groupId: string, numPartitions: number): number {
  return kafkaAbs(javaStringHashCode(groupId)) % numPartitions;
}
