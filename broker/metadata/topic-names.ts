// Kafka's rules for legal topic names (Topic.validate): 1-249 characters from
// [a-zA-Z0-9._-], and not "." or "..". Names differing only in '.' vs '_' collide in
// metric names, so Kafka refuses the second one; the collision check lives here too.
export const MAX_TOPIC_NAME_LENGTH = 249;

/** Why a name is illegal, or undefined when it is legal. */
export function illegalTopicNameReason(name: string): string | undefined {
  if (name.length === 0) return "Topic name is illegal, it can't be empty";
  if (name === "." || name === "..") return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name}`;
  }
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) {
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return undefined;
}

/** The form under which two topic names collide ('.' and '_' are the same in metric names). */
export function collisionKey(name: string): string {
  return name.replace(/\./g, "_");
}

export function isInternalTopic(name: string): boolean {
  return name === "__consumer_offsets" || name === "__transaction_state";
}
