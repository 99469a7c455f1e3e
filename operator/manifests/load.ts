// Reads KafkaCluster and KafkaTopic manifests from YAML files (several documents per
// file), as `capstan lint` and local mode do, and checks each against the same OpenAPI
// schema the CRDs give the API server. Every problem names the file and line and says
// what is wrong, so a pull request or a terminal shows exactly where to look.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { LineCounter, parseAllDocuments, parse as parseYaml, isMap, type Document } from "yaml";
import { GROUP, VERSION, type KafkaCluster, type KafkaTopic } from "../api/types.ts";
import { readdirSync as listDir } from "node:fs";

export interface Located<T> {
  resource: T;
  file: string;
  /** 1-based line of the document's start. */
  line: number;
  /** The 1-based line of a path inside the document (e.g. ["spec", "partitions"]), or the document line. */
  lineOf(path: Array<string | number>): number;
}

export interface ManifestProblem {
  file: string;
  line: number;
  message: string;
}

export interface Manifests {
  clusters: Array<Located<KafkaCluster>>;
  topics: Array<Located<KafkaTopic>>;
  problems: ManifestProblem[];
}

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

let validators: Map<string, Validator> | undefined;

/** The committed CRDs (generated from the types, kept fresh by a test). */
const CRD_DIR = new URL("../../crds/", import.meta.url).pathname;

/** The CRDs' openAPIV3Schema per kind, compiled once. */
function validatorFor(kind: string): Validator | undefined {
  if (!validators) {
    validators = new Map();
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    for (const f of listDir(CRD_DIR).filter((n) => n.endsWith(".yaml"))) {
      const text = readFileSync(join(CRD_DIR, f), "utf8");
      const crd = parseYaml(text) as {
        spec: { names: { kind: string }; versions: Array<{ schema: { openAPIV3Schema: object } }> };
      };
      validators.set(
        crd.spec.names.kind,
        ajv.compile(crd.spec.versions[0].schema.openAPIV3Schema) as Validator,
      );
    }
  }
  return validators.get(kind);
}

/** The YAML files under `dir` (recursively), sorted, or `dir` itself if it is a file. */
export function manifestFiles(dir: string): string[] {
  if (statSync(dir).isFile()) return [dir];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && /\.ya?ml$/.test(e.name)) out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}

function describeAjvError(e: ErrorObject): string {
  const where = e.instancePath.replace(/^\//, "").replace(/\//g, ".") || "(document)";
  if (e.keyword === "required") return `${where}: missing required field ${String(e.params.missingProperty)}`;
  if (e.keyword === "enum")
    return `${where}: must be one of ${(e.params.allowedValues as unknown[]).join(", ")}`;
  return `${where}: ${e.message}`;
}

function lineFinder(
  doc: Document,
  counter: LineCounter,
  fallback: number,
): (path: Array<string | number>) => number {
  return (path) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === "object" && node.range) return counter.linePos(node.range[0]).line;
    }
    return fallback;
  };
}

/** Loads and checks every manifest under `dir`; files that are not ours are ignored. */
export function loadManifests(dir: string, cwd = process.cwd()): Manifests {
  const result: Manifests = { clusters: [], topics: [], problems: [] };
  for (const path of manifestFiles(dir)) {
    const file = relative(cwd, path) || path;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      result.problems.push({ file, line: 1, message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    const counter = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false });
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      // The document's first line is where its content starts (after any "---").
      const contentStart = (doc.contents as { range?: [number, number, number] } | null)?.range?.[0];
      const start = counter.linePos(contentStart ?? doc.range?.[0] ?? 0).line;
      if (doc.errors.length > 0) {
        for (const e of doc.errors) {
          result.problems.push({
            file,
            line: counter.linePos(e.pos[0]).line,
            message: `YAML: ${e.message.split("\n")[0]}`,
          });
        }
        continue;
      }
      if (!isMap(doc.contents)) continue;
      const obj = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string } };
      if (obj.kind !== "KafkaCluster" && obj.kind !== "KafkaTopic") continue;
      const lineOf = lineFinder(doc, counter, start);
      if (obj.apiVersion !== `${GROUP}/${VERSION}`) {
        result.problems.push({
          file,
          line: lineOf(["apiVersion"]),
          message: `${obj.kind}: apiVersion must be ${GROUP}/${VERSION}, not ${obj.apiVersion ?? "(missing)"}`,
        });
        continue;
      }
      if (!obj.metadata?.name) {
        result.problems.push({
          file,
          line: lineOf(["metadata"]),
          message: `${obj.kind}: metadata.name is required`,
        });
        continue;
      }
      const validate = validatorFor(obj.kind)!;
      if (!validate(obj)) {
        for (const e of validate.errors ?? []) {
          const path = e.instancePath.split("/").filter((p) => p !== "");
          result.problems.push({
            file,
            line: lineOf(path),
            message: `${obj.kind} ${obj.metadata.name}: ${describeAjvError(e)}`,
          });
        }
        continue;
      }
      if (obj.kind === "KafkaCluster") {
        result.clusters.push({ resource: obj as KafkaCluster, file, line: start, lineOf });
      } else {
        result.topics.push({ resource: obj as KafkaTopic, file, line: start, lineOf });
      }
    }
  }
  return result;
}
