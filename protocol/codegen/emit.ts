// Turns one parsed message definition into a TypeScript module: an interface per
// struct (fields in wire order, camelCase), a default-value factory, and an
// encoder/decoder pair that handles every valid version of the message.
import {
  type FieldSpec,
  type FieldType,
  type MessageSpec,
  type StructSpec,
  type VersionRange,
  intersect,
  isEmpty,
} from "./spec.ts";

/** Any int16 a peer could send as a version. */
const ANY_VERSION: VersionRange = { min: -32768, max: Infinity };

export function propertyName(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function fmtRange(r: VersionRange): string {
  if (isEmpty(r)) return "none";
  return r.max === Infinity ? `${r.min}+` : r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`;
}

function rangeLiteral(r: VersionRange): string {
  return `{ min: ${r.min}, max: ${r.max === Infinity ? "Infinity" : r.max} }`;
}

/**
 * A JavaScript condition on `version` that is true exactly for the versions in `r`,
 * given that `version` is already known to lie in `within`. Constant when it can be.
 */
function cond(r: VersionRange, within: VersionRange): string {
  const i = intersect(r, within);
  if (isEmpty(i)) return "false";
  const parts: string[] = [];
  if (i.min > within.min) parts.push(`version >= ${i.min}`);
  if (i.max < within.max) parts.push(`version <= ${i.max}`);
  return parts.length === 0 ? "true" : parts.join(" && ");
}

class MessageEmitter {
  private readonly m: MessageSpec;
  private readonly out: string[] = [];
  /** The condition for "this version is flexible" over the message's valid versions. */
  private readonly flexCond: string;

  constructor(m: MessageSpec) {
    this.m = m;
    this.flexCond = cond(m.flexibleVersions, m.validVersions);
  }

  private line(s = ""): void {
    this.out.push(s);
  }

  private fieldVersions(f: FieldSpec): VersionRange {
    return intersect(f.versions, this.m.validVersions);
  }

  /** The versions in which the field is on the wire: tagged fields only in their tagged versions. */
  private presentVersions(f: FieldSpec): VersionRange {
    const v = this.fieldVersions(f);
    return f.tag === undefined ? v : intersect(v, f.taggedVersions);
  }

  private typeNullable(f: FieldSpec): boolean {
    return !isEmpty(intersect(f.nullableVersions, this.fieldVersions(f))) || f.default === "null";
  }

  private tsType(t: FieldType): string {
    switch (t.kind) {
      case "array":
        return `${this.tsType(t.element)}[]`;
      case "struct":
        return t.name;
      case "primitive":
        switch (t.name) {
          case "bool":
            return "boolean";
          case "int64":
            return "bigint";
          case "uuid":
          case "string":
            return "string";
          case "bytes":
          case "records":
            return "Buffer";
          default:
            return "number";
        }
    }
  }

  private fieldTsType(f: FieldSpec): string {
    return this.tsType(f.type) + (this.typeNullable(f) ? " | null" : "");
  }

  private defaultExpr(f: FieldSpec): string {
    if (f.default === "null") return "null";
    const t = f.type;
    if (t.kind === "array") return "[]";
    if (t.kind === "struct") return `default${t.name}()`;
    const d = f.default;
    switch (t.name) {
      case "bool":
        return d === "true" ? "true" : "false";
      case "int64":
        return `${BigInt(d === undefined || d === "" ? 0 : d)}n`;
      case "uuid":
        return "wire.ZERO_UUID";
      case "string":
        return JSON.stringify(d ?? "");
      case "bytes":
        return "wire.EMPTY_BYTES";
      case "records":
        return this.typeNullable(f) ? "null" : "wire.EMPTY_BYTES";
      default: {
        const n = d === undefined || d === "" ? 0 : Number(d);
        if (!Number.isFinite(n)) throw new Error(`${this.m.source}: bad default ${d} for ${f.name}`);
        return String(n);
      }
    }
  }

  /** Statement(s) writing value `x` of type `t`. */
  private encodeValue(
    t: FieldType,
    x: string,
    flex: string,
    nullable: string,
    label: string,
    typeIsNullable: boolean,
  ): string {
    if (t.kind === "array") {
      const elem = this.encodeValue(t.element, "e", flex, "false", `${label}[]`, false);
      return `wire.writeArray(w, ${x}, ${flex}, ${nullable}, ${JSON.stringify(label)}, (w, e) => { ${elem} });`;
    }
    if (t.kind === "struct") {
      if (!typeIsNullable) return `encode${t.name}(w, ${x}, version);`;
      return `wire.writeNullableStruct(w, ${x}, ${nullable}, ${JSON.stringify(label)}, (w, s) => encode${t.name}(w, s, version));`;
    }
    switch (t.name) {
      case "string":
        return `wire.writeString(w, ${x}, ${flex}, ${nullable}, ${JSON.stringify(label)});`;
      case "bytes":
      case "records":
        return `wire.writeBytes(w, ${x}, ${flex}, ${nullable}, ${JSON.stringify(label)});`;
      default:
        return `w.${t.name}(${x});`;
    }
  }

  /** Expression reading a value of type `t` from reader `r`, typed as `tsType`. */
  private decodeValue(
    t: FieldType,
    r: string,
    flex: string,
    nullable: string,
    typeIsNullable: boolean,
  ): string {
    const cast = (e: string, ts: string): string => (typeIsNullable ? e : `(${e} as ${ts})`);
    if (t.kind === "array") {
      const elem = this.decodeValue(t.element, "r", flex, "false", false);
      return cast(`wire.readArray(${r}, ${flex}, ${nullable}, (r) => ${elem})`, this.tsType(t));
    }
    if (t.kind === "struct") {
      if (!typeIsNullable) return `decode${t.name}(${r}, version)`;
      return `wire.readNullableStruct(${r}, ${nullable}, (r) => decode${t.name}(r, version))`;
    }
    switch (t.name) {
      case "string":
        return cast(`wire.readString(${r}, ${flex}, ${nullable})`, "string");
      case "bytes":
      case "records":
        return cast(`wire.readBytes(${r}, ${flex}, ${nullable})`, "Buffer");
      default:
        return `${r}.${t.name}()`;
    }
  }

  private flexFor(f: FieldSpec, present: VersionRange): string {
    if (f.flexibleVersions) return cond(f.flexibleVersions, present);
    const c = cond(this.m.flexibleVersions, present);
    return c === "true" || c === "false" ? c : "flexible";
  }

  private emitInterface(name: string, fields: FieldSpec[], doc: string): void {
    this.line(`/** ${doc} */`);
    this.line(`export interface ${name} {`);
    for (const f of fields) {
      const notes = [`versions ${fmtRange(this.fieldVersions(f))}`];
      if (!isEmpty(intersect(f.nullableVersions, this.fieldVersions(f)))) {
        notes.push(`nullable ${fmtRange(intersect(f.nullableVersions, this.fieldVersions(f)))}`);
      }
      if (f.tag !== undefined) notes.push(`tag ${f.tag} in ${fmtRange(f.taggedVersions)}`);
      if (f.ignorable) notes.push("ignorable");
      const about = (f.about ?? "").replace(/\*\//g, "* /").replace(/\s+/g, " ").trim();
      this.line(`  /** ${about ? about + " " : ""}(${notes.join("; ")}) */`);
      this.line(`  ${propertyName(f.name)}: ${this.fieldTsType(f)};`);
    }
    if (!isEmpty(this.m.flexibleVersions)) {
      this.line(`  /** Tagged fields this codec does not know, kept so re-encoding is exact. */`);
      this.line(`  _unknownTaggedFields?: wire.RawTaggedField[];`);
    }
    this.line(`}`);
    this.line();
  }

  private emitDefault(name: string, fields: FieldSpec[]): void {
    this.line(`/** A ${name} with every field at its default. */`);
    this.line(`export function default${name}(): ${name} {`);
    this.line(`  return {`);
    for (const f of fields) this.line(`    ${propertyName(f.name)}: ${this.defaultExpr(f)},`);
    this.line(`  };`);
    this.line(`}`);
    this.line();
  }

  /** Declares `flexible` once per function when it depends on the version. */
  private flexibleDecl(): string | undefined {
    if (this.flexCond === "true" || this.flexCond === "false") return undefined;
    return `  const flexible = ${this.flexCond};`;
  }

  private emitEncoder(name: string, fields: FieldSpec[], top: boolean): void {
    const exp = top ? "export " : "";
    this.line(`${exp}function encode${name}(w: wire.Writer, v: ${name}, version: number): void {`);
    if (top) {
      this.line(`  if (!(${cond(this.m.validVersions, ANY_VERSION)})) {`);
      this.line(
        `    throw new wire.EncodeError(\`${name}: version \${version} is not valid (${fmtRange(this.m.validVersions)})\`);`,
      );
      this.line(`  }`);
    }
    const flexDecl = this.flexibleDecl();
    if (flexDecl) this.line(flexDecl);
    for (const f of fields) {
      if (f.tag !== undefined) continue;
      const present = this.presentVersions(f);
      const p = `v.${propertyName(f.name)}`;
      const label = `${name}.${f.name}`;
      const stmt = this.encodeValue(
        f.type,
        p,
        this.flexFor(f, present),
        cond(f.nullableVersions, present),
        label,
        this.typeNullable(f),
      );
      this.emitGuarded(cond(present, this.m.validVersions), stmt, f, p, label);
    }
    if (this.flexCond !== "false") {
      const tagged = fields.filter((f) => f.tag !== undefined).sort((a, b) => (a.tag ?? 0) - (b.tag ?? 0));
      const body: string[] = [];
      if (tagged.length === 0) {
        body.push(`w.emptyTaggedFields(v._unknownTaggedFields);`);
      } else {
        body.push(`w.taggedFields([`);
        for (const f of tagged) {
          const present = this.presentVersions(f);
          const p = `v.${propertyName(f.name)}`;
          const c = cond(present, this.m.validVersions);
          const stmt = this.encodeValue(
            f.type,
            p,
            "true",
            cond(f.nullableVersions, present),
            `${name}.${f.name}`,
            this.typeNullable(f),
          );
          const when = `${c === "true" ? "" : `${c} && `}wire.differs(${p}, ${this.defaultExpr(f)})`;
          body.push(`  [${f.tag}, ${when} ? (w) => { ${stmt} } : undefined],`);
        }
        body.push(`], v._unknownTaggedFields);`);
        for (const f of tagged) {
          const present = this.presentVersions(f);
          const c = cond(present, this.m.validVersions);
          if (c !== "true" && !f.ignorable) {
            const p = `v.${propertyName(f.name)}`;
            body.push(
              `if (!(${c})) wire.checkAbsent(${p}, ${this.defaultExpr(f)}, ${JSON.stringify(`${name}.${f.name}`)}, version);`,
            );
          }
        }
      }
      const flexCheck = this.flexCond === "true" ? undefined : "flexible";
      if (flexCheck) {
        this.line(`  if (${flexCheck}) {`);
        for (const b of body) this.line(`    ${b}`);
        this.line(`  }`);
      } else {
        for (const b of body) this.line(`  ${b}`);
      }
    }
    this.line(`}`);
    this.line();
  }

  private emitGuarded(c: string, stmt: string, f: FieldSpec, p: string, label: string): void {
    if (c === "true") {
      this.line(`  ${stmt}`);
      return;
    }
    const absent = f.ignorable
      ? undefined
      : `wire.checkAbsent(${p}, ${this.defaultExpr(f)}, ${JSON.stringify(label)}, version);`;
    if (c === "false") {
      if (absent) this.line(`  ${absent}`);
      return;
    }
    this.line(`  if (${c}) {`);
    this.line(`    ${stmt}`);
    if (absent) {
      this.line(`  } else {`);
      this.line(`    ${absent}`);
    }
    this.line(`  }`);
  }

  private emitDecoder(name: string, fields: FieldSpec[], top: boolean): void {
    const exp = top ? "export " : "";
    this.line(`${exp}function decode${name}(r: wire.Reader, version: number): ${name} {`);
    if (top) {
      this.line(`  if (!(${cond(this.m.validVersions, ANY_VERSION)})) {`);
      this.line(
        `    throw new wire.ProtocolError("unsupported-version", \`${name}: version \${version} is not valid (${fmtRange(this.m.validVersions)})\`, r.pos);`,
      );
      this.line(`  }`);
    }
    const flexDecl = this.flexibleDecl();
    if (flexDecl) this.line(flexDecl);
    this.line(`  const v: ${name} = {`);
    for (const f of fields) {
      const prop = propertyName(f.name);
      if (f.tag !== undefined) {
        this.line(`    ${prop}: ${this.defaultExpr(f)},`);
        continue;
      }
      const present = this.presentVersions(f);
      const c = cond(present, this.m.validVersions);
      const expr = this.decodeValue(
        f.type,
        "r",
        this.flexFor(f, present),
        cond(f.nullableVersions, present),
        this.typeNullable(f),
      );
      if (c === "true") this.line(`    ${prop}: ${expr},`);
      else if (c === "false") this.line(`    ${prop}: ${this.defaultExpr(f)},`);
      else this.line(`    ${prop}: ${c} ? ${expr} : ${this.defaultExpr(f)},`);
    }
    this.line(`  };`);
    if (this.flexCond !== "false") {
      const tagged = fields.filter((f) => f.tag !== undefined);
      const body: string[] = [];
      if (tagged.length === 0) {
        body.push(`const unknown = r.taggedFields(() => false);`);
      } else {
        body.push(`const unknown = r.taggedFields((tag, tr) => {`);
        body.push(`  switch (tag) {`);
        for (const f of tagged) {
          const present = this.presentVersions(f);
          const c = cond(present, this.m.validVersions);
          const expr = this.decodeValue(
            f.type,
            "tr",
            "true",
            cond(f.nullableVersions, present),
            this.typeNullable(f),
          );
          body.push(`    case ${f.tag}:`);
          if (c === "false") {
            body.push(`      return false;`);
          } else {
            body.push(`      if (!(${c})) return false;`);
            body.push(`      v.${propertyName(f.name)} = ${expr};`);
            body.push(`      return true;`);
          }
        }
        body.push(`    default:`);
        body.push(`      return false;`);
        body.push(`  }`);
        body.push(`});`);
      }
      body.push(`if (unknown !== undefined) v._unknownTaggedFields = unknown;`);
      if (this.flexCond === "true") {
        for (const b of body) this.line(`  ${b}`);
      } else {
        this.line(`  if (flexible) {`);
        for (const b of body) this.line(`    ${b}`);
        this.line(`  }`);
      }
    }
    this.line(`  return v;`);
    this.line(`}`);
    this.line();
  }

  private emitStruct(s: StructSpec, top: boolean): void {
    const doc = top
      ? `${this.m.name} (${this.m.kind}${this.m.apiKey !== undefined ? `, key ${this.m.apiKey}` : ""}), versions ${fmtRange(this.m.validVersions)}.`
      : `${s.name}, part of ${this.m.name}.`;
    this.emitInterface(s.name, s.fields, doc);
    this.emitDefault(s.name, s.fields);
    this.emitEncoder(s.name, s.fields, top);
    this.emitDecoder(s.name, s.fields, top);
  }

  emit(): string {
    const m = this.m;
    this.line(`// Generated by protocol/codegen from ${m.source}. Do not edit: run \`npm run codegen\`.`);
    this.line(`/* eslint-disable */`);
    this.line(`import * as wire from "../../wire/codec.ts";`);
    this.line();
    this.line(`export const ${m.name}Schema = {`);
    this.line(`  name: ${JSON.stringify(m.name)},`);
    this.line(`  kind: ${JSON.stringify(m.kind)},`);
    if (m.apiKey !== undefined) this.line(`  apiKey: ${m.apiKey},`);
    this.line(`  validVersions: ${rangeLiteral(m.validVersions)},`);
    this.line(`  flexibleVersions: ${rangeLiteral(m.flexibleVersions)},`);
    this.line(`  deprecatedVersions: ${rangeLiteral(m.deprecatedVersions)},`);
    this.line(`  latestVersionUnstable: ${m.latestVersionUnstable},`);
    this.line(`  listeners: ${JSON.stringify(m.listeners)},`);
    this.line(`} as const;`);
    this.line();
    this.emitStruct({ name: m.name, fields: m.fields }, true);
    for (const s of m.structs.values()) this.emitStruct(s, false);
    return this.out.join("\n");
  }
}

export function emitMessage(m: MessageSpec): string {
  return new MessageEmitter(m).emit();
}
