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
  // One pass over each page, encoded straight after the one before. Counting the bytes first (Buffer.byteLength) was a
  // second pass over every page, ~9 % of a render worker's time at 50k tools: a page is counted only when it may not
  // have fitted (write() stops before a character that does not fit), and then the buffer grows.
  // A render worker (index false) hands its buffer to the main thread as it is: it encodes into a buffer of its own,
  // sized for pages that are one byte a character (nearly all are), instead of copying the bytes into one of the
  // exact size. The main thread keeps one scratch buffer and copies.
  let chars = 0;
  if (!index) for (const f of files) chars += f.content.length;
  let tmp = index ? scratch : Buffer.allocUnsafeSlow(chars + 1024);
  const paths: string[] = [];
  const ends: number[] = [];
  let off = 0;
  for (const f of files) {
    let n = tmp.write(f.content, off, "utf8");
    if (n >= tmp.length - off - 3) {
      const need = off + Buffer.byteLength(f.content, "utf8");
      if (need > off + n) {
        let cap = tmp.length * 2;
        while (cap < need) cap *= 2;
        const grown = Buffer.allocUnsafeSlow(cap);
        tmp.copy(grown, 0, 0, off);
        tmp = grown;
        if (index) scratch = grown;
        n = tmp.write(f.content, off, "utf8");
      }
    }
    off += n;
    paths.push(f.path);
    ends.push(off);
  }
  let buf: Uint8Array;
  if (index) {
    // The scratch buffer is kept: the bytes are copied into a buffer of their own (not from the shared pool).
    buf = Buffer.allocUnsafeSlow(off);
    tmp.copy(buf, 0, 0, off);
  } else buf = tmp.subarray(0, off);
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
