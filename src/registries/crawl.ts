import { AppError, oneLine } from "../core/errors.js";
import { markUnseen, upsertSourceEntry } from "../store/catalog.js";
import { type Sqlite, transaction } from "../store/db.js";
import { readCheckpointRow, recordSourceError, saveCheckpoint, touchSourceEntries } from "../store/source-crawl.js";
import { HttpClient, type HttpStats } from "./http.js";
import { errorRaw, PageError } from "./sanitise.js";
import type { EntryError, SourceAdapter, SourcePage, Validator } from "./types.js";

/** A runaway source (a cursor that never repeats) stops here: 10,000 pages is 40x the official registry today. */
export const DEFAULT_MAX_PAGES = 10_000;

/** Where an unfinished crawl of one source got to, and what the last finished one knew. */
export interface CheckpointState {
  /** The crawl in progress (present while a cursor is checkpointed). */
  run?: { startedAt: string; incremental: boolean; updatedSince?: string; cursors: string[]; pages: number };
  lastComplete?: { startedAt: string; finishedAt: string; incremental: boolean };
  validators?: Record<string, Validator>;
}

export interface CrawlProgress {
  sourceId: string;
  page: number;
  entries: number;
  errors: number;
  cursor?: string;
}

export interface CrawlSourceOptions {
  runId?: number;
  /** Stop after this many pages in this call (the checkpoint lets the next call continue). */
  maxPages?: number;
  /** Ask only for what changed since the last complete crawl (sources that support it). */
  incremental?: boolean;
  /** Ignore an unfinished crawl's checkpoint and start over. */
  restart?: boolean;
  http?: HttpClient;
  onProgress?(p: CrawlProgress): void;
}

export interface SourceCrawlStats {
  sourceId: string;
  runId?: number;
  mode: "full" | "incremental";
  /** The cursor an unfinished earlier crawl had reached, when this call resumed it. */
  resumedFrom?: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  pages: number;
  notModifiedPages: number;
  /** Entries stored (created + updated). */
  entries: number;
  created: number;
  updated: number;
  /** Entries not used (invalid shape, rejected name, store failure). */
  skipped: number;
  /** Every error item written to source_errors (skips, notes, the page error that stopped the crawl). */
  errors: number;
  olderVersions: number;
  /** Entries marked removed after a complete full crawl. */
  markedRemoved: number;
  complete: boolean;
  stoppedBy: "end" | "max_pages" | "cursor_loop" | "error";
  /** The error that stopped the crawl, for the CLI's exit code and message. */
  error?: { code: string; message: string };
  http: HttpStats;
}

/** Crawls one source page by page into the catalog: one transaction per page, checkpointed, resumable. */
export async function crawlSource(
  sqlite: Sqlite,
  adapter: SourceAdapter,
  opts: CrawlSourceOptions = {},
): Promise<SourceCrawlStats> {
  const http = opts.http ?? new HttpClient();
  const sourceId = adapter.id;
  const t0 = performance.now();
  const row = readCheckpointRow(sqlite, sourceId);
  const state = checkpointState(row?.state);
  const validators = new Map(Object.entries(state.validators ?? {}));
  const touchedUrls = new Set<string>();

  let cursor: string | undefined;
  let resumedFrom: string | undefined;
  if (!opts.restart && row?.cursor && state.run) {
    cursor = row.cursor;
    resumedFrom = row.cursor;
  } else {
    const incremental = !!opts.incremental && !!adapter.supportsIncremental && !!state.lastComplete;
    state.run = {
      startedAt: new Date().toISOString(),
      incremental,
      updatedSince: incremental ? state.lastComplete?.startedAt : undefined,
      cursors: [],
      pages: 0,
    };
  }
  const run = state.run!;
  const visited = new Set(run.cursors);
  const stats: SourceCrawlStats = {
    sourceId,
    runId: opts.runId,
    mode: run.incremental ? "incremental" : "full",
    resumedFrom,
    startedAt: run.startedAt,
    finishedAt: "",
    durationMs: 0,
    pages: 0,
    notModifiedPages: 0,
    entries: 0,
    created: 0,
    updated: 0,
    skipped: 0,
    errors: 0,
    olderVersions: 0,
    markedRemoved: 0,
    complete: false,
    stoppedBy: "end",
    http: http.stats,
  };

  const recordErrors = (errors: EntryError[], at: string) => {
    for (const e of errors) {
      recordSourceError(sqlite, { runId: opts.runId ?? null, sourceId, at, error: e.error, raw: e.raw ?? null });
      stats.errors++;
      if (e.skipped) stats.skipped++;
    }
  };
  const checkpoint = (next: string | undefined, at: string) => {
    state.validators = Object.fromEntries(validators);
    saveCheckpoint(sqlite, sourceId, next ?? null, state, at);
  };
  const stopWithError = (message: string, raw: string | undefined, code: string) => {
    const at = new Date().toISOString();
    transaction(sqlite, () => recordErrors([{ error: message, raw }], at));
    stats.error = { code, message };
  };

  const maxPages = opts.maxPages ?? DEFAULT_MAX_PAGES;
  for (;;) {
    if (stats.pages >= maxPages) {
      stats.stoppedBy = "max_pages";
      break;
    }
    let page: SourcePage;
    try {
      page = await adapter.fetchPage(cursor, { http, updatedSince: run.updatedSince, validators });
    } catch (err) {
      // The checkpoint still holds this cursor: the next crawl retries this page.
      stats.stoppedBy = "error";
      const code = err instanceof AppError ? err.code : "internal";
      stopWithError(oneLine(err), err instanceof PageError ? err.raw : undefined, code);
      break;
    }
    if (cursor !== undefined) visited.add(cursor);
    const next = page.nextCursor;
    const loop = next !== undefined && (visited.has(next) || next === cursor);
    const at = new Date().toISOString();
    transaction(sqlite, () => {
      stats.pages++;
      run.pages++;
      stats.olderVersions += page.olderVersions ?? 0;
      const cond = page.conditional;
      if (cond) touchedUrls.add(cond.url);
      if (page.notModified) {
        stats.notModifiedPages++;
        touchSourceEntries(sqlite, sourceId, (cond && validators.get(cond.url)?.keys) ?? [], at);
      } else {
        for (const e of page.entries) {
          try {
            const r = upsertSourceEntry(sqlite, { sourceId, ...e }, at);
            stats.entries++;
            if (r.created) stats.created++;
            else stats.updated++;
          } catch (err) {
            // The entry's savepoint rolled back; the rest of the page still lands.
            recordErrors(
              [{ error: `${e.sourceKey}: not stored: ${oneLine(err)}`, raw: errorRaw(e.raw), skipped: true }],
              at,
            );
          }
        }
        if (cond && !run.incremental) {
          if (cond.etag || cond.lastModified) {
            const keys = page.entries.map((e) => e.sourceKey);
            validators.set(cond.url, { etag: cond.etag, lastModified: cond.lastModified, nextCursor: next, keys });
          } else validators.delete(cond.url);
        }
      }
      recordErrors(page.errors, at);
      if (loop) {
        const message = `cursor loop: page ${run.pages} returned cursor ${JSON.stringify(next)} already visited; crawl stopped`;
        recordErrors([{ error: message }], at);
        stats.error = { code: "bad_input", message };
        stats.stoppedBy = "cursor_loop";
        // A looping source is not resumed into the same loop: the next crawl starts over.
        delete state.run;
        checkpoint(undefined, at);
        return;
      }
      if (next === undefined) {
        stats.complete = true;
        return;
      }
      run.cursors.push(next);
      checkpoint(next, at);
    });
    opts.onProgress?.({ sourceId, page: stats.pages, entries: stats.entries, errors: stats.errors, cursor: next });
    if (stats.complete || stats.stoppedBy === "cursor_loop") break;
    cursor = next;
  }

  const finishedAt = new Date().toISOString();
  if (stats.complete) {
    transaction(sqlite, () => {
      // Only a complete full listing proves absence; an incremental one says nothing about what it did not return.
      if (!run.incremental) stats.markedRemoved = markUnseen(sqlite, sourceId, run.startedAt);
      if (!run.incremental) for (const url of [...validators.keys()]) if (!touchedUrls.has(url)) validators.delete(url);
      state.lastComplete = { startedAt: run.startedAt, finishedAt, incremental: run.incremental };
      delete state.run;
      checkpoint(undefined, finishedAt);
    });
  }
  stats.finishedAt = finishedAt;
  stats.durationMs = Math.round(performance.now() - t0);
  return stats;
}

/** A stored checkpoint state; anything that is not an object (damaged, missing) reads as no state. */
function checkpointState(v: unknown): CheckpointState {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as CheckpointState) : {};
}

/** Reads a source's checkpoint (for status displays and tests). */
export function readCheckpoint(
  sqlite: Sqlite,
  sourceId: string,
): { cursor: string | null; state: CheckpointState } | undefined {
  const row = readCheckpointRow(sqlite, sourceId);
  return row ? { cursor: row.cursor, state: checkpointState(row.state) } : undefined;
}
