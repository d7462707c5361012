import { hash } from "node:crypto";
import { type ServerSummaryRows, summaryRows } from "../store/site-state.js";
import { Hash64 } from "./global-pages.js";
import { type ServerSearch, serverPostings } from "./search-index.js";
import type { ServerMeta, SiteFile, ToolSummary } from "./server-pages.js";

/** Content hash used in the manifest (the same as hashContent in site-state.ts, for encoded bytes). */
export const hashBytes = (b: Uint8Array) => hash("sha1", b, "base64url");

/**
 * One rendered server made ready for the thread that writes files and the build state: its pages encoded once into
 * one buffer (transferable from a render worker without a copy), each page's hash, its search entries and its
 * summary rows. Everything here is a pure function of the rendered pages: a render worker encodes, and the main
 * thread hashes, compares hashes, queues bytes and stores rows.
 */
export interface PreparedServer {
  id: number;
  /** The server disappeared since the fingerprints were read. */
  missing?: boolean;
  meta?: ServerMeta;
  paths: string[];
  /** End offset in buf of each file's bytes (the first starts at 0). */
  ends: number[];
  hashes: string[];
  buf: Uint8Array;
  /** The server's tool summaries, until indexServer turned them into search entries and summary rows. */
  tools?: ToolSummary[];
  search?: ServerSearch;
  summary?: ServerSummaryRows;
  /** The key of what the sitemaps show of the server: its page's path and its tools' (see index.ts). */
  ufp?: string;
}

/** The encoding buffer, kept between servers (it grows to the largest server's worst case). */
let scratch = Buffer.allocUnsafeSlow(1 << 20);

/**
 * Encodes a rendered server's pages; with `index`, also hashes them and makes its search entries and summary rows
 * (indexServer). A render worker leaves those to the main thread, which has time to spare while the worker renders
 * (at 50k tools, profiled: the worker busy 38 s, the main thread 17 s of 45): the load is shared better across two
 * cores.
 */
export function prepareServer(
  id: number,
  files: SiteFile[],
  meta: ServerMeta,
  tools: ToolSummary[],
  index = true,
): PreparedServer {
  // One pass over each page: encoded into a buffer with room for the worst case (3 bytes per UTF-16 unit), grown by
  // doubling, then copied once into a buffer of the exact size. Counting the bytes first (Buffer.byteLength) was a
  // second pass over every page, ~9 % of a render worker's time at 50k tools.
  let tmp = scratch;
  let cap = tmp.length;
  const paths: string[] = [];
  const ends: number[] = [];
  let off = 0;
  for (const f of files) {
    const need = off + f.content.length * 3;
    if (need > cap) {
      while (cap < need) cap *= 2;
      const grown = Buffer.allocUnsafeSlow(cap);
      tmp.copy(grown, 0, 0, off);
      tmp = grown;
      scratch = grown;
    }
    off += tmp.write(f.content, off, "utf8");
    paths.push(f.path);
    ends.push(off);
  }
  // Not from the shared pool: the buffer is transferred whole to the main thread.
  const buf = Buffer.allocUnsafeSlow(off);
  tmp.copy(buf, 0, 0, off);
  const p: PreparedServer = { id, meta, paths, ends, hashes: [], buf, tools };
  return index ? indexServer(p) : p;
}

/** Adds a prepared server's page hashes, search entries, summary rows and sitemap key (once). */
export function indexServer(p: PreparedServer): PreparedServer {
  if (p.search || !p.meta || !p.tools) return p;
  const { meta, tools } = p;
  // Hashed here, not where the pages are encoded: a render worker is the full build's busiest thread.
  let start = 0;
  for (const end of p.ends) {
    p.hashes.push(hashBytes(p.buf.subarray(start, end)));
    start = end;
  }
  p.search = serverPostings(meta, tools);
  p.summary = summaryRows(meta, tools);
  p.ufp = new Hash64()
    .str(meta.slug)
    .str(tools.map((t) => t.s).join("/"))
    .hex();
  p.tools = undefined;
  return p;
}
