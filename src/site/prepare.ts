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
 * summary rows. Everything here is a pure function of the rendered pages, so a render worker does it and the main
 * thread only compares hashes, queues bytes and stores rows.
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

/**
 * Encodes and hashes a rendered server's pages; with `index`, also makes its search entries and summary rows
 * (indexServer). A render worker leaves those to the main thread, which has time to spare while the worker renders
 * (at 50k tools the worker was busy ~29 s, the main thread ~10 s): the load is shared better across two cores.
 */
export function prepareServer(
  id: number,
  files: SiteFile[],
  meta: ServerMeta,
  tools: ToolSummary[],
  index = true,
): PreparedServer {
  let total = 0;
  const lens = files.map((f) => {
    const n = Buffer.byteLength(f.content);
    total += n;
    return n;
  });
  // Not from the shared pool: the buffer is transferred whole to the main thread.
  const buf = Buffer.allocUnsafeSlow(total);
  const paths: string[] = [];
  const ends: number[] = [];
  const hashes: string[] = [];
  let off = 0;
  for (const [i, f] of files.entries()) {
    const n = buf.write(f.content, off, "utf8");
    if (n !== lens[i]) throw new Error(`encoding ${f.path}: ${n} bytes, expected ${lens[i]}`);
    paths.push(f.path);
    hashes.push(hashBytes(buf.subarray(off, off + n)));
    off += n;
    ends.push(off);
  }
  const p: PreparedServer = { id, meta, paths, ends, hashes, buf, tools };
  return index ? indexServer(p) : p;
}

/** Adds a prepared server's search entries, summary rows and sitemap key (once). */
export function indexServer(p: PreparedServer): PreparedServer {
  if (p.search || !p.meta || !p.tools) return p;
  const { meta, tools } = p;
  p.search = serverPostings(meta, tools);
  p.summary = summaryRows(meta, tools);
  p.ufp = new Hash64()
    .str(meta.slug)
    .str(tools.map((t) => t.s).join("/"))
    .hex();
  p.tools = undefined;
  return p;
}
