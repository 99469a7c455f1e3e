// Kubernetes timestamps. Lease renewTime and Event eventTime are MicroTime, which the
// API server parses with exactly six fractional digits (Go's RFC3339Micro layout);
// JavaScript has milliseconds, so three zeros are appended. Conditions use plain RFC 3339
// seconds (metav1.Time).

export function microTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export function rfc3339(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
