import type { RawTool, ServerEntry } from "../core/types.js";
import type { HttpClient } from "./http.js";

/** One server as a source lists it, already normalised to server.json. */
export interface NormalisedEntry {
  /** The entry's id within its source (stable across crawls). */
  sourceKey: string;
  entry: ServerEntry;
  /** The source's own payload for this entry (long strings capped). */
  raw: unknown;
  status?: "active" | "deprecated" | "deleted";
  upstreamUpdatedAt?: string;
  popularity?: number;
  /** Tools the source itself reports (Smithery, Glama, Docker). */
  reportedTools?: RawTool[];
}

/** An entry or page the adapter could not use: counted and stored, never thrown. */
export interface EntryError {
  error: string;
  raw?: string;
  /** The entry was not used (as opposed to a note about a fixed-up entry). */
  skipped?: boolean;
}

/** Conditional-request validators of one fetched URL, kept in crawl_checkpoints.state between crawls. */
export interface Validator {
  etag?: string;
  lastModified?: string;
  /** What the page led to, so a 304 can continue the crawl without the body. */
  nextCursor?: string;
  /** Source keys the page yielded, so a 304 still counts them as seen. */
  keys?: string[];
}

/** One page of a source. */
export interface SourcePage {
  entries: NormalisedEntry[];
  errors: EntryError[];
  nextCursor?: string;
  raw?: unknown;
  /** The URL fetched and its fresh validators (when the host sent any). */
  conditional?: { url: string; etag?: string; lastModified?: string };
  /** The host answered 304: the page is as it was at the last crawl. */
  notModified?: boolean;
  /** Non-latest versions of servers seen on this page (the latest one stands for the server). */
  olderVersions?: number;
}

/** What an adapter gets from the crawl loop. */
export interface FetchContext {
  http: HttpClient;
  /** Only entries changed since this ISO time (incremental crawl; adapters that cannot filter ignore it). */
  updatedSince?: string;
  /** Validators from earlier crawls, by URL. */
  validators: ReadonlyMap<string, Validator>;
}

/** One registry behind one interface: a cursor in, a page of normalised entries out. */
export interface SourceAdapter {
  id: string;
  /** True when the adapter honours ctx.updatedSince (and reports deletions then). */
  supportsIncremental?: boolean;
  fetchPage(cursor: string | undefined, ctx: FetchContext): Promise<SourcePage>;
}
