// The client host Kafka records for a group member: Java's InetAddress.toString() of
// the peer, "/<ip>", which DescribeGroups and kafka-consumer-groups print as HOST.

/** From a connection's "address:port" (IPv4-mapped IPv6 addresses shown as IPv4). */
export function clientHostOf(remoteAddress: string): string {
  const i = remoteAddress.lastIndexOf(":");
  let host = i > 0 && /^\d+$/.test(remoteAddress.slice(i + 1)) ? remoteAddress.slice(0, i) : remoteAddress;
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(host)) host = host.slice(7);
  return `/${host}`;
}
