import type Database from "better-sqlite3";
import { catalogStats } from "./queries.js";

/** The catalog's totals as `/v1/stats` and `mcp-census stats` show them. */
export type CatalogStats = ReturnType<typeof catalogStats>;

/*
 * Statistics change only when the catalog is written (a crawl, a probe, a reclassification), but computing them
 * reads every current tool: 0.5–20 s at 500,000 tools. They are computed once and kept in `catalog_stats`; triggers
 * (migration 0006) mark the row dirty on any write that could change them, and a dirty row is never served.
 */

const memo = new WeakMap<Database.Database, { version: string; stats: CatalogStats }>();

/** What identifies the catalog's state as seen by this connection: other connections' commits and its own writes. */
function stateOf(sqlite: Database.Database): string {
  const dv = sqlite.pragma("data_version", { simple: true }) as number;
  const own = (sqlite.prepare("SELECT total_changes() AS n").get() as { n: number }).n;
  return `${dv}:${own}`;
}

function hasStatsTable(sqlite: Database.Database): boolean {
  return !!sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'catalog_stats'").get();
}

/** Computes the statistics and stores them as clean (in one write transaction, so no write slips in between). */
export function refreshCatalogStats(sqlite: Database.Database): CatalogStats {
  if (!hasStatsTable(sqlite)) return catalogStats(sqlite);
  return sqlite
    .transaction(() => {
      const stats = catalogStats(sqlite);
      sqlite
        .prepare(
          `INSERT INTO catalog_stats (id, stats, computed_at, dirty) VALUES (1, ?, ?, 0)
           ON CONFLICT (id) DO UPDATE SET stats = excluded.stats, computed_at = excluded.computed_at, dirty = 0`,
        )
        .run(JSON.stringify(stats), new Date().toISOString());
      return stats;
    })
    .immediate();
}

/**
 * The catalog's statistics, cheaply: the stored row when it is clean; otherwise computed once, stored when this
 * connection may write (so the next reader and process get them), and remembered until the catalog changes.
 */
export function currentCatalogStats(sqlite: Database.Database): CatalogStats {
  const version = stateOf(sqlite);
  const m = memo.get(sqlite);
  if (m && m.version === version) return m.stats;
  let stats: CatalogStats | undefined;
  const table = hasStatsTable(sqlite);
  if (table) {
    const row = sqlite.prepare("SELECT stats, dirty FROM catalog_stats WHERE id = 1").get() as
      | { stats: string; dirty: number }
      | undefined;
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
