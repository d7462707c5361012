import { eq } from "drizzle-orm";
import { hasTable, orm, type Sqlite } from "./db.js";
import { catalogStats } from "./queries.js";
import { catalogStatsTable } from "./schema.js";

/** The catalog's totals as `/v1/stats` and `mcp-census stats` show them. */
export type CatalogStats = ReturnType<typeof catalogStats>;

/*
 * Statistics change only when the catalog is written (a crawl, a probe, a reclassification), but computing them
 * reads every current tool: 0.5–20 s at 500,000 tools. They are computed once and kept in `catalog_stats`; triggers
 * (migration 0006) mark the row dirty on any write that could change them, and a dirty row is never served.
 */

const memo = new WeakMap<Sqlite, { version: string; stats: CatalogStats }>();
const totalChanges = new WeakMap<Sqlite, () => number>();

/**
 * What identifies the catalog's state as seen by this connection: other connections' commits (`data_version`) and
 * its own writes (`total_changes()`). Connection state, not the schema's: read through the driver, not drizzle.
 */
function stateOf(sqlite: Sqlite): string {
  const dv = sqlite.pragma("data_version", { simple: true }) as number;
  let own = totalChanges.get(sqlite);
  if (!own) {
    const stmt = sqlite.prepare<[], number>("SELECT total_changes()").pluck();
    own = () => stmt.get() as number;
    totalChanges.set(sqlite, own);
  }
  return `${dv}:${own()}`;
}

/** Computes the statistics and stores them as clean (in one write transaction, so no write slips in between). */
export function refreshCatalogStats(sqlite: Sqlite): CatalogStats {
  // A catalog opened read-only before migration 0006 has no table to keep them in.
  if (!hasTable(sqlite, "catalog_stats")) return catalogStats(sqlite);
  const db = orm(sqlite);
  return sqlite
    .transaction(() => {
      const stats = catalogStats(sqlite);
      const row = { stats: JSON.stringify(stats), computedAt: new Date().toISOString(), dirty: 0 };
      db.insert(catalogStatsTable)
        .values({ id: 1, ...row })
        .onConflictDoUpdate({ target: catalogStatsTable.id, set: row })
        .run();
      return stats;
    })
    .immediate();
}

/**
 * The catalog's statistics, cheaply: the stored row when it is clean; otherwise computed once, stored when this
 * connection may write (so the next reader and process get them), and remembered until the catalog changes.
 */
export function currentCatalogStats(sqlite: Sqlite): CatalogStats {
  const version = stateOf(sqlite);
  const m = memo.get(sqlite);
  if (m && m.version === version) return m.stats;
  let stats: CatalogStats | undefined;
  const table = hasTable(sqlite, "catalog_stats");
  if (table) {
    const row = orm(sqlite)
      .select({ stats: catalogStatsTable.stats, dirty: catalogStatsTable.dirty })
      .from(catalogStatsTable)
      .where(eq(catalogStatsTable.id, 1))
      .get();
    if (row && row.dirty === 0) stats = JSON.parse(row.stats) as CatalogStats;
  }
  if (!stats) {
    if (table && !sqlite.readonly) {
      // Never wait for a crawl's write lock here (a reader would stall for the busy timeout): if the catalog is
      // busy, serve the computed figures and let the crawl's end (or a later call) store them.
      const busy = sqlite.pragma("busy_timeout", { simple: true }) as number;
      sqlite.pragma("busy_timeout = 0");
      try {
        stats = refreshCatalogStats(sqlite);
      } catch {
        stats = catalogStats(sqlite);
      } finally {
        sqlite.pragma(`busy_timeout = ${Number(busy) | 0}`);
      }
    } else stats = catalogStats(sqlite);
  }
  memo.set(sqlite, { version: stateOf(sqlite), stats });
  return stats;
}
