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
  search?: ServerSearch;
  summary?: ServerSummaryRows;
  /** The key of what the sitemaps show of the server: its page's path and its tools' (see index.ts). */
  ufp?: string;
}

export function prepareServer(id: number, files: SiteFile[], meta: ServerMeta, tools: ToolSummary[]): PreparedServer {
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
  const ufp = new Hash64()
    .str(meta.slug)
    .str(tools.map((t) => t.s).join("/"))
    .hex();
  return {
    id,
    meta,
    paths,
    ends,
    hashes,
    buf,
    search: serverPostings(meta, tools),
    summary: summaryRows(meta, tools),
    ufp,
  };
}
