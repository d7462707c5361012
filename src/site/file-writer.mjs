// The site's file writer, run in its own thread: it receives batches of encoded files (one transferred buffer per
// batch with the end offset of each file) and writes them with plain synchronous fs calls, so the thread that renders
// never waits on the disk and pays no per-file promise. Plain JavaScript: it needs no TypeScript loader.
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parentPort } from "node:worker_threads";

/** Directories made by this thread; a directory deleted since is made again when a write into it fails. */
const made = new Set();

/**
 * Writes to a temporary name beside the page and renames it over the page: a page is either its old or its new
 * content, never empty or cut short (a full disk left empty pages in the live site until the next build).
 */
function writeOne(path, data) {
  const dir = dirname(path);
  if (!made.has(dir)) {
    mkdirSync(dir, { recursive: true });
    if (made.size > 50_000) made.clear();
    made.add(dir);
  }
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    try {
      writeFileSync(tmp, data);
    } catch (err) {
      if (err?.code !== "ENOENT") throw err;
      mkdirSync(dir, { recursive: true });
      writeFileSync(tmp, data);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

parentPort?.on("message", (batch) => {
  const bytes = new Uint8Array(batch.buf);
  const failed = [];
  let start = 0;
  for (let i = 0; i < batch.paths.length; i++) {
    const end = batch.ends[i];
    try {
      writeOne(batch.paths[i], bytes.subarray(start, end));
    } catch (err) {
      failed.push([batch.paths[i], err?.message ?? String(err)]);
    }
    start = end;
  }
  parentPort?.postMessage({ seq: batch.seq, failed });
});
