import { parentPort, workerData } from "node:worker_threads";
import { PostingsReader } from "../store/site-state.js";
import { hashBytes } from "./prepare.js";
import { buildShard } from "./search-index.js";

export interface SearchWorkerData {
  /** The build state's file, whose postings the build committed before starting this thread. */
  statePath: string;
  /** The shards to build, in the order the build writes them. */
  keys: string[];
  maxPostings: number;
}

/** One built shard: empty (no token left in its range), or its file's bytes and their hash. */
export type ShardResult = { key: string; empty: true } | { key: string; empty: false; bytes: Uint8Array; hash: string };

// Builds a full build's search shards from its own read-only connection while the main thread renders the global
// pages: the two phases each kept one core busy, one after the other.
const data = workerData as SearchWorkerData;
const reader = new PostingsReader(data.statePath);
// Each shard's bytes in an ArrayBuffer of their own, transferred to the main thread (Buffer.from may hand out a slice of
// its shared pool, which must never be transferred).
const encoder = new TextEncoder();
for (const key of data.keys) {
  const shard = buildShard(reader, key, data.maxPostings);
  let r: ShardResult;
  if (!Object.keys(shard.tokens).length) r = { key, empty: true };
  else {
    const bytes = encoder.encode(`${JSON.stringify(shard)}\n`);
    r = { key, empty: false, bytes, hash: hashBytes(bytes) };
  }
  parentPort?.postMessage(r, r.empty ? [] : [r.bytes.buffer as ArrayBuffer]);
}
reader.close();
