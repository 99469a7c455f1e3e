// Random values for a message at one version, built from the same definitions the
// generator reads: every field the version carries gets a value (null, tagged or
// not, as the schema allows); the others keep their defaults. Used by the codec
// round-trip and bad-input tests.
import { randomBytes } from "node:crypto";
import { type FieldSpec, type FieldType, type MessageSpec, contains, isTaggedAt } from "./spec.ts";
import { propertyName } from "./emit.ts";

export interface CodecModule {
  [name: string]: unknown;
}

/** A small deterministic PRNG (mulberry32), so failures reproduce from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-é✓";

export class SampleGenerator {
  private readonly m: MessageSpec;
  private readonly mod: CodecModule;
  private readonly rnd: () => number;

  constructor(m: MessageSpec, mod: CodecModule, seed: number) {
    this.m = m;
    this.mod = mod;
    this.rnd = prng(seed);
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }

  private primitive(name: string): unknown {
    switch (name) {
      case "bool":
        return this.rnd() < 0.5;
      case "int8":
        return this.int(-128, 127);
      case "int16":
        return this.int(-32768, 32767);
      case "uint16":
        return this.int(0, 65535);
      case "int32":
        return this.int(-2147483648, 2147483647);
      case "uint32":
        return this.int(0, 4294967295);
      case "int64":
        return BigInt.asIntN(
          64,
          (BigInt(this.int(0, 2 ** 32 - 1)) << 32n) | BigInt(this.int(0, 2 ** 32 - 1)),
        );
      case "float64":
        return (this.rnd() - 0.5) * 1e6;
      case "uuid":
        return randomBytes(16).toString("base64url");
      case "string": {
        let s = "";
        const n = this.int(0, 10);
        for (let i = 0; i < n; i++) s += ALPHABET[this.int(0, ALPHABET.length - 1)];
        return s;
      }
      default:
        return randomBytes(this.int(0, 12));
    }
  }

  private value(t: FieldType, version: number, depth: number): unknown {
    switch (t.kind) {
      case "primitive":
        return this.primitive(t.name);
      case "array": {
        const n = depth > 3 ? 0 : this.int(0, 3);
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(t.element, version, depth + 1));
        return out;
      }
      case "struct": {
        const s = this.m.structs.get(t.name);
        if (!s) throw new Error(`unknown struct ${t.name}`);
        return this.struct(t.name, s.fields, version, depth + 1);
      }
    }
  }

  struct(name: string, fields: FieldSpec[], version: number, depth = 0): Record<string, unknown> {
    const make = this.mod[`default${name}`] as () => Record<string, unknown>;
    const v = make();
    const flexible = contains(this.m.flexibleVersions, version);
    for (const f of fields) {
      if (!contains(f.versions, version)) continue;
      if (f.tag !== undefined) {
        if (!flexible || !isTaggedAt(f, version) || this.rnd() < 0.3) continue;
      }
      if (contains(f.nullableVersions, version) && this.rnd() < 0.2) {
        v[propertyName(f.name)] = null;
        continue;
      }
      v[propertyName(f.name)] = this.value(f.type, version, depth);
    }
    return v;
  }

  message(version: number): Record<string, unknown> {
    return this.struct(this.m.name, this.m.fields, version);
  }
}

/** Every version the message defines. */
export function versionsOf(m: MessageSpec): number[] {
  const out: number[] = [];
  for (let v = m.validVersions.min; v <= m.validVersions.max; v++) out.push(v);
  return out;
}
