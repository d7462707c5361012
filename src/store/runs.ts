import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { oneLine } from "../core/errors.js";
import { orm, type Sqlite } from "./db.js";
import { classifications, crawlRuns, probes, sourceErrors } from "./schema.js";

/** A crawl run's row as stored. */
export type CrawlRunRow = typeof crawlRuns.$inferSelect;

/** How a crawl was run: in one process, or through the queues. */
export type CrawlMode = "embedded" | "distributed";

/** A run's end state: done, or failed with the reason in its stats. */
export type CrawlEnd = "done" | "failed";

/** Opens a crawl run (status running) and returns its id. */
export function openCrawlRun(
  sqlite: Sqlite,
  mode: CrawlMode,
  stats: Record<string, unknown> = {},
  startedAt = new Date().toISOString(),
): number {
  return orm(sqlite)
    .insert(crawlRuns)
    .values({ startedAt, mode, status: "running", stats })
    .returning({ id: crawlRuns.id })
    .get().id;
}

/** Closes a crawl run with its end state and final stats (the summary, or the reason it failed). */
export function closeCrawlRun(sqlite: Sqlite, runId: number, status: CrawlEnd, stats: Record<string, unknown>): void {
  orm(sqlite)
    .update(crawlRuns)
    .set({ finishedAt: new Date().toISOString(), status, stats })
    .where(eq(crawlRuns.id, runId))
    .run();
}

/** Runs of this mode still marked running, with what they recorded when they opened (e.g. the owning process). */
export function runningCrawlRuns(sqlite: Sqlite, mode: CrawlMode): { id: number; stats: unknown }[] {
  return orm(sqlite)
    .select({ id: crawlRuns.id, stats: crawlRuns.stats })
    .from(crawlRuns)
    .where(and(eq(crawlRuns.mode, mode), eq(crawlRuns.status, "running")))
    .all();
}

/**
 * Marks runs that are still `running` but whose process is gone as `interrupted` (finished_at: when this was found
 * out), keeping what they had recorded. Only rows still running are touched.
 */
export function markCrawlRunsInterrupted(sqlite: Sqlite, ids: number[], reason: string): number {
  return endRunningCrawlRuns(sqlite, ids, "interrupted", reason);
}

/**
 * Ends runs that are still `running` and can never finish (their state is gone) as `failed` with the reason in their
 * stats, keeping what they had recorded. Only rows still running are touched.
 */
export function failRunningCrawlRuns(sqlite: Sqlite, ids: number[], reason: string): number {
  return endRunningCrawlRuns(sqlite, ids, "failed", reason);
}

function endRunningCrawlRuns(sqlite: Sqlite, ids: number[], status: "interrupted" | "failed", reason: string): number {
  if (ids.length === 0) return 0;
  return orm(sqlite)
    .update(crawlRuns)
    .set({
      status,
      finishedAt: new Date().toISOString(),
      stats: sql`json_set(${crawlRuns.stats}, '$.error', ${reason})`,
    })
    .where(and(inArray(crawlRuns.id, ids), eq(crawlRuns.status, "running")))
    .run().changes;
}

/** One crawl run's row. */
export function crawlRun(sqlite: Sqlite, runId: number): CrawlRunRow | undefined {
  return orm(sqlite).select().from(crawlRuns).where(eq(crawlRuns.id, runId)).get();
}

/** The errors sources recorded during one run, one line each, in the order they were recorded. */
export function runSourceErrors(sqlite: Sqlite, runId: number): { source: string; error: string }[] {
  return orm(sqlite)
    .select({ source: sourceErrors.sourceId, error: sourceErrors.error })
    .from(sourceErrors)
    .where(eq(sourceErrors.runId, runId))
    .orderBy(asc(sourceErrors.id))
    .all()
    .map((e) => ({ source: e.source, error: oneLine(e.error) }));
}

/**
 * The items whose definition hash has no classification by this classifier version yet (one query per call, in
 * chunks that stay under SQLite's parameter limit).
 */
export function withoutClassification<T extends { hash: string }>(sqlite: Sqlite, items: T[], version: string): T[] {
  if (items.length === 0) return items;
  const done = new Set<string>();
  const db = orm(sqlite);
  for (let i = 0; i < items.length; i += 500) {
    const hashes = items.slice(i, i + 500).map((it) => it.hash);
    for (const r of db
      .select({ hash: classifications.hash })
      .from(classifications)
      .where(and(eq(classifications.classifierVersion, version), inArray(classifications.hash, hashes)))
      .all())
      done.add(r.hash);
  }
  return items.filter((it) => !done.has(it.hash));
}

/** Whether this probe result (server, start time, outcome) is stored already: a re-delivered job stops there. */
export function probeIsStored(sqlite: Sqlite, serverId: number, startedAt: string, outcome: string): boolean {
  return !!orm(sqlite)
    .select({ one: sql`1` })
    .from(probes)
    .where(and(eq(probes.serverId, serverId), eq(probes.startedAt, startedAt), eq(probes.outcome, outcome)))
    .limit(1)
    .get();
}
