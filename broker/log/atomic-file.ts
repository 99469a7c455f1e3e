// Small metadata files (checkpoints, snapshots, partition.metadata) are replaced
// whole and must never be seen half-written: write a temporary file, fsync it,
// rename it over the old one, fsync the directory so the rename itself survives a
// crash (Kafka's Utils.atomicMoveWithFallback does the same).
import { open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { TMP_FILE_SUFFIX } from "./file-names.ts";

export async function writeFileAtomically(file: string, data: string | Buffer): Promise<void> {
  const tmp = file + TMP_FILE_SUFFIX;
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, file);
  await fsyncDir(path.dirname(file));
}

/** Makes a directory's entries (created, renamed, deleted files) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, "r");
  } catch {
    return; // some platforms cannot open directories; the rename is still atomic
  }
  try {
    await fh.sync();
  } catch {
    // fsync on a directory is unsupported on some file systems; nothing more to do
  } finally {
    await fh.close();
  }
}

/** Reads a file as UTF-8, or null if it does not exist. */
export async function readFileIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}
