import { and, eq, inArray, sql } from "drizzle-orm";
import { orm, type Sqlite } from "./db.js";
import { crawlCheckpoints, sourceErrors, sources } from "./schema.js";

/**
 * What a source crawl keeps between pages and runs: its checkpoint (cursor and state), the errors it records, and the
 * last-seen mark of entries a conditional request proved unchanged. The state's shape is the crawler's
 * (registries/crawl.ts); the store keeps it as JSON.
 */

/** A source's checkpoint: the cursor an unfinished crawl reached, and its state (unparsed JSON, null if unreadable). */
export function readCheckpointRow(
  sqlite: Sqlite,
  sourceId: string,
): { cursor: string | null; state: unknown } | undefined {
  // The state is read as text and parsed here: a damaged value reads as null rather than stopping the crawl.
  const row = orm(sqlite)
    .select({ cursor: crawlCheckpoints.cursor, state: sql<string | null>`${crawlCheckpoints.state}` })
    .from(crawlCheckpoints)
    .where(eq(crawlCheckpoints.sourceId, sourceId))
    .get();
  if (!row) return undefined;
  let state: unknown = null;
  try {
    state = row.state === null ? null : JSON.parse(row.state);
  } catch {
    state = null;
  }
  return { cursor: row.cursor, state };
}

/** Writes a source's checkpoint (replacing the previous one). */
export function saveCheckpoint(
  sqlite: Sqlite,
  sourceId: string,
  cursor: string | null,
  state: unknown,
  updatedAt: string,
): void {
  orm(sqlite)
    .insert(crawlCheckpoints)
    .values({ sourceId, cursor, state, updatedAt })
    .onConflictDoUpdate({ target: crawlCheckpoints.sourceId, set: { cursor, state, updatedAt } })
    .run();
}

/** Records one entry or page a source could not use, with its reason and (capped) raw payload. */
export function recordSourceError(
  sqlite: Sqlite,
  e: { runId: number | null; sourceId: string; at: string; error: string; raw: string | null },
): void {
  orm(sqlite).insert(sourceErrors).values(e).run();
}

/** Marks a source's entries as seen at `at` (a page the source answered "not modified" still lists them). */
export function touchSourceEntries(sqlite: Sqlite, sourceId: string, keys: readonly string[], at: string): void {
  const db = orm(sqlite);
  for (let i = 0; i < keys.length; i += 500) {
    db.update(sources)
      .set({ lastSeen: at })
      .where(and(eq(sources.sourceId, sourceId), inArray(sources.sourceKey, keys.slice(i, i + 500))))
      .run();
  }
}
