// The site's file writer, run in its own thread: it receives batches of encoded files (one transferred buffer per
// batch with the end offset of each file) and writes them with plain synchronous fs calls, so the thread that renders
// never waits on the disk and pays no per-file promise. Plain JavaScript: it needs no TypeScript loader.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parentPort } from "node:worker_threads";

/** Directories made by this thread; a directory deleted since is made again when a write into it fails. */
const made = new Set();

function writeOne(path, data) {
  const dir = dirname(path);
  if (!made.has(dir)) {
    mkdirSync(dir, { recursive: true });
    if (made.size > 50_000) made.clear();
    made.add(dir);
  }
  try {
    writeFileSync(path, data);
  } catch (err) {
    if (err?.code !== "ENOENT") throw err;
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, data);
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
      failed.push([batch.paths[i], `${err?.code ? `${err.code}: ` : ""}${err?.message ?? String(err)}`]);
    }
    start = end;
  }
  parentPort?.postMessage({ seq: batch.seq, failed });
});
