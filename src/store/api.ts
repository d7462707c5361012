import { readFileSync } from "node:fs";
import type Database from "better-sqlite3";
import { AppError } from "../core/errors.js";
import { CHANGE_COLUMNS } from "./changes.js";
import {
  CLASSIFICATION_JOIN,
  type ProbeRow,
  type ServerRow,
  TOOL_COLUMNS,
  type ToolRow,
  toProbeRow,
  toServerRow,
  toToolRow,
} from "./queries.js";

/*
 * The HTTP API's and MCP server's reads. These are the measured hot path of `serve` (bench-api: thousands of
 * requests a second), so they stay prepared statements cached per connection, built from a finite set of filter
 * combinations; everything else in the store goes through drizzle's query builder.
 */

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/*
 * The SQL texts of the detail answers, built once: prep() looks a statement up by its text, and a template built per
 * call is a new string to flatten, hash and compare on every request.
 */
const SQL = {
  toolByName: `SELECT ${TOOL_COLUMNS} FROM tools t ${CLASSIFICATION_JOIN} WHERE t.server_id = ? AND t.name = ?`,
  toolBySlug: `SELECT ${TOOL_COLUMNS} FROM tools t ${CLASSIFICATION_JOIN} WHERE t.server_id = ? AND t.slug = ?`,
  toolOutlines: `SELECT t.name, t.slug, t.title, length(t.raw) AS raw_len, c.category, c.risk, c.flags
     FROM tools t ${CLASSIFICATION_JOIN} WHERE t.server_id = ? AND t.removed_at IS NULL ORDER BY t.name`,
  toolChanges: `SELECT ${CHANGE_COLUMNS} FROM changes c JOIN servers s ON s.id = c.server_id
     WHERE c.server_id = ? AND c.tool_name = ? ORDER BY c.id`,
};

/**
 * Thrown out of a list query that ran past its time budget (see withQueryBudget): `unavailable` in the error table
 * (503, worth trying again later, when the machine is less busy or the query narrower).
 */
export class QueryBudgetExceeded extends AppError {
  constructor(readonly budgetMs: number) {
    super("unavailable", `query ran past its ${budgetMs} ms budget`);
    this.name = "QueryBudgetExceeded";
  }
}

/*
 * A time budget for list queries. better-sqlite3 offers no progress handler or interrupt, so list queries call
 * `qbudget()` for every row they consider (in the FTS subquery, and in the outer WHERE when the scan that may run
 * long is not the FTS one: a relevance page checks FTS rows only, each check being a call from SQLite into JS); once the deadline has
 * passed it throws, SQLite stops the statement and the error reaches the caller. The clock is read every 64 rows.
 */
let deadline = Number.POSITIVE_INFINITY;
let budgetMs = 0;
let calls = 0;
const withBudgetFn = new WeakSet<Database.Database>();
function ensureBudgetFunction(sqlite: Database.Database): void {
  if (withBudgetFn.has(sqlite)) return;
  sqlite.function("qbudget", { deterministic: false, directOnly: true }, () => {
    if ((++calls & 63) === 0 && performance.now() > deadline) throw new QueryBudgetExceeded(budgetMs);
    return 1;
  });
  withBudgetFn.add(sqlite);
}

/** Runs list queries with a time budget: past `ms`, they throw QueryBudgetExceeded instead of running on. */
export function withQueryBudget<T>(sqlite: Database.Database, ms: number, fn: () => T): T {
  ensureBudgetFunction(sqlite);
  const outer = deadline;
  const outerMs = budgetMs;
  deadline = performance.now() + ms;
  budgetMs = ms;
  calls = 0;
  try {
    return fn();
  } finally {
    deadline = outer;
    budgetMs = outerMs;
  }
}

/** A prepared statement, cached per connection: the hot paths run the same few SQL texts again and again. */
function prep(sqlite: Database.Database, sql: string): Database.Statement {
  let m = statements.get(sqlite);
  if (!m) {
    m = new Map();
    statements.set(sqlite, m);
  }
  let st = m.get(sql);
  if (!st) {
    st = sqlite.prepare(sql);
    // The filter combinations are finite (a few hundred texts at most), but keep the cache bounded anyway.
    if (m.size > 2000) m.clear();
    m.set(sql, st);
  }
  return st;
}

/**
 * Risk order over the tool's copy of its current classification's risk: the same expression as the partial index
 * `tools_live_risk` (migration 0006), so `sort=risk` reads that index in order instead of sorting every tool.
 */
const RISK_RANK =
  "CASE t.risk WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END";

/**
 * The WHERE of a page driven by an FTS scan that checks the budget itself (tieredSearch): each other row the page
 * reads comes from one FTS row, so a second check per row would only double the calls into JS.
 */
const ftsDriven = (where: string[]): string => where.filter((w) => w !== "qbudget()").join(" AND ");

/** Where a relevance-ordered page resumes: the tier (0 = name/title match, 1 = elsewhere) and the last id. */
export interface TierCursor {
  tier: number;
  afterId: number;
}

/** A row of a search tier carries the tier it came from (it is part of the next page's cursor). */
type Tiered<T> = T & { tier: number };

/**
 * Relevance without ranking every match (bm25 over all matches costs O(matches): seconds for a common word in a
 * large catalog). Two tiers: rows whose name or title match, then rows that match only elsewhere; by id within a
 * tier. Each tier is an FTS scan in rowid order that stops at the page size, so a page costs O(page), not O(matches):
 * `sql` must keep the FTS scan the outer loop of a subquery ordered by `f.fid` alone (EXPLAIN QUERY PLAN shows no
 * temp B-tree for it), and join whatever needs a lookup per row outside that subquery.
 * `sql` receives the FTS subquery as `f(fid)` and takes (match, after id, ...filterArgs, limit).
 */
function tieredSearch<T>(
  sqlite: Database.Database,
  table: "tools_fts" | "servers_fts",
  match: string,
  cursor: TierCursor | null,
  limit: number,
  sql: (fts: string) => string,
  filterArgs: unknown[],
): Tiered<T>[] {
  const startTier = cursor?.tier ?? 0;
  const afterId = cursor?.afterId ?? 0;
  ensureBudgetFunction(sqlite);
  const st = prep(
    sqlite,
    sql(`(SELECT rowid AS fid FROM ${table} WHERE ${table} MATCH ? AND rowid > ? AND qbudget()) f`),
  );
  const out: Tiered<T>[] = [];
  for (let tier = startTier; tier < 2 && out.length <= limit; tier++) {
    const expr = tier === 0 ? `{name title} : (${match})` : `(${match}) NOT ({name title} : (${match}))`;
    const rows = st.all(expr, tier === startTier ? afterId : 0, ...filterArgs, limit + 1 - out.length) as T[];
    for (const r of rows) {
      (r as Tiered<T>).tier = tier;
      out.push(r as Tiered<T>);
    }
  }
  return out;
}

/** Server list filters the API accepts. */
export interface ServerFilters {
  source?: string | undefined;
  transport?: string | undefined;
  runtime?: string | undefined;
  outcome?: string | undefined;
  category?: string | undefined;
  risk?: string | undefined;
  /** ISO time: only servers updated at or after it. */
  updatedSince?: string | undefined;
}

/** A server list row: the server, its latest probe's outcome and time, and its current tool count. */
export type ServerListRow = ServerRow & { probeOutcome: string | null; probeAt: string | null; toolCount: number };

/** How a list page is ordered and where it resumes. */
export type ServerOrder =
  | { by: "relevance"; after: TierCursor | null }
  | { by: "name"; after: [string, number] | null };

function toServerListRow(r: Record<string, unknown>): ServerListRow {
  return {
    ...toServerRow(r),
    probeOutcome: (r.probe_outcome as string) ?? null,
    probeAt: (r.probe_at as string) ?? null,
    toolCount: r.tool_count as number,
  };
}

/** Up to limit + 1 servers matching the filters (and the FTS `match`, when given), in the order asked. */
export function serverListRows(
  sqlite: Database.Database,
  f: ServerFilters,
  match: string | undefined,
  order: ServerOrder,
  limit: number,
): Tiered<ServerListRow>[] {
  ensureBudgetFunction(sqlite);
  const where: string[] = ["qbudget()", "s.status != 'removed'"];
  const args: unknown[] = [];
  if (f.source) {
    where.push(
      "EXISTS (SELECT 1 FROM sources so WHERE so.server_id = s.id AND so.source_id = ? AND so.status != 'removed')",
    );
    args.push(f.source);
  }
  if (f.transport) {
    where.push(`(EXISTS (SELECT 1 FROM json_each(s.packages) je WHERE coalesce(json_extract(je.value, '$.transport.type'), 'stdio') = ?)
      OR EXISTS (SELECT 1 FROM json_each(s.remotes) je WHERE json_extract(je.value, '$.type') = ?))`);
    args.push(f.transport, f.transport);
  }
  if (f.runtime) {
    where.push(`(EXISTS (SELECT 1 FROM json_each(s.packages) je WHERE lower(json_extract(je.value, '$.registryType')) = ?
      OR lower(json_extract(je.value, '$.runtimeHint')) = ?) OR (? = 'remote' AND json_array_length(s.remotes) > 0))`);
    args.push(f.runtime, f.runtime, f.runtime);
  }
  if (f.updatedSince) {
    where.push("s.updated_at >= ?");
    args.push(f.updatedSince);
  }
  if (f.outcome === "unprobed") where.push("s.last_probe_id IS NULL");
  else if (f.outcome) {
    where.push("p.outcome = ?");
    args.push(f.outcome);
  }
  if (f.category || f.risk) {
    const cond: string[] = [];
    if (f.category) {
      cond.push("t.category = ?");
      args.push(f.category);
    }
    if (f.risk) {
      cond.push("t.risk = ?");
      args.push(f.risk);
    }
    where.push(
      `EXISTS (SELECT 1 FROM tools t WHERE t.server_id = s.id AND t.removed_at IS NULL AND ${cond.join(" AND ")})`,
    );
  }
  const select = `SELECT s.*, p.outcome AS probe_outcome, p.started_at AS probe_at,
        (SELECT count(*) FROM tools tc WHERE tc.server_id = s.id AND tc.removed_at IS NULL) AS tool_count`;
  if (order.by === "relevance" && match) {
    return tieredSearch<Record<string, unknown>>(
      sqlite,
      "servers_fts",
      match,
      order.after,
      limit,
      // As for tools: the page's ids in FTS rowid order first, then the tool count (a count per server) only for
      // the rows of the page, not for every match.
      (fts) =>
        `${select} FROM (SELECT s.id AS pid, f.fid FROM ${fts} JOIN servers s ON s.id = f.fid
           LEFT JOIN probes p ON p.id = s.last_probe_id WHERE ${ftsDriven(where)} ORDER BY f.fid LIMIT ?) page
         JOIN servers s ON s.id = page.pid LEFT JOIN probes p ON p.id = s.last_probe_id ORDER BY page.fid`,
      args,
    ).map((r) => ({ ...toServerListRow(r), tier: r.tier }));
  }
  const ftsArgs: unknown[] = [];
  let from = "servers s LEFT JOIN probes p ON p.id = s.last_probe_id";
  if (match) {
    from = `(SELECT rowid AS fid FROM servers_fts WHERE servers_fts MATCH ? AND qbudget()) f JOIN ${from.replace("servers s", "servers s ON s.id = f.fid")}`;
    ftsArgs.push(match);
  }
  if (order.by === "name" && order.after) {
    where.push("(s.name, s.id) > (?, ?)");
    args.push(...order.after);
  }
  const rows = prep(sqlite, `${select} FROM ${from} WHERE ${where.join(" AND ")} ORDER BY s.name, s.id LIMIT ?`).all(
    ...ftsArgs,
    ...args,
    limit + 1,
  ) as Record<string, unknown>[];
  return rows.map((r) => ({ ...toServerListRow(r), tier: 0 }));
}

/** Finds a server by slug, exact name or numeric id (as findServer, over cached statements). */
export function lookupServer(sqlite: Database.Database, ref: string): ServerRow | undefined {
  const r =
    (prep(sqlite, "SELECT * FROM servers WHERE slug = ? OR name = ?").get(ref, ref) as Record<string, unknown>) ??
    (/^\d+$/.test(ref) ? (prep(sqlite, "SELECT * FROM servers WHERE id = ?").get(Number(ref)) as never) : undefined);
  return r ? toServerRow(r) : undefined;
}

/**
 * A server by slug or exact name as stored (JSON columns as text), for answers that splice the stored JSON in rather
 * than parse and re-serialise it; undefined when the ref needs the wider lookup (lookupServer, resolveServer).
 */
export function serverRecordByRef(sqlite: Database.Database, ref: string): Record<string, unknown> | undefined {
  return prep(sqlite, "SELECT * FROM servers WHERE slug = ? OR name = ?").get(ref, ref) as
    | Record<string, unknown>
    | undefined;
}

/** What a tool detail shows of its server, by slug or exact name (undefined: ask lookupServer/resolveServer). */
export function serverBriefByRef(
  sqlite: Database.Database,
  ref: string,
): { id: number; slug: string; name: string; status: string } | undefined {
  return prep(sqlite, "SELECT id, slug, name, status FROM servers WHERE slug = ? OR name = ?").get(ref, ref) as never;
}

/** Tool list filters the API accepts (the server already resolved to its id). */
export interface ToolFilters {
  serverId?: number | undefined;
  category?: string | undefined;
  risk?: string | undefined;
  /** `any`, `none`, or one annotation name. */
  annotation?: string | undefined;
  flag?: string | undefined;
}

/** What a tool list row holds: no definitions or schemas, which can be large and would only be parsed to be dropped. */
export interface ToolListRow {
  id: number;
  serverId: number;
  serverSlug: string;
  serverName: string;
  name: string;
  slug: string;
  title: string | null;
  description: string | null;
  /** The stored annotations as their JSON text (null when none): parsed only by answers that need the object. */
  annotationsText: string | null;
  access: string | null;
  category: string | null;
  risk: string | null;
  /** The current classification's flags as their stored JSON text (null when unclassified). */
  flagsText: string | null;
  /** The sort key's values (without the id) for the next page's cursor. */
  key: (string | number)[];
}

export type ToolSort = "server" | "name" | "risk";
export type ToolOrder =
  | { by: "relevance"; after: TierCursor | null }
  | { by: ToolSort; after: (string | number)[] | null };

/** How many cursor values (including the id) each tool sort has. */
export const TOOL_SORT_KEY_SIZE: Record<ToolSort, number> = { server: 3, name: 2, risk: 2 };

const TOOL_SUMMARY_COLUMNS = `t.id, t.server_id, t.name, t.slug, t.title, t.description, t.annotations,
  c.access AS c_access, c.category AS c_category, c.risk AS c_risk, c.flags AS c_flags,
  s.name AS server_name, s.slug AS server_slug`;

function toToolListRow(r: Record<string, unknown>, keySize: number, tier: number): Tiered<ToolListRow> {
  const key: (string | number)[] = [];
  for (let i = 0; i < keySize; i++) key.push(r[`k${i}`] as string | number);
  return {
    tier,
    id: r.id as number,
    serverId: r.server_id as number,
    serverSlug: r.server_slug as string,
    serverName: r.server_name as string,
    name: r.name as string,
    slug: r.slug as string,
    title: (r.title as string) ?? null,
    description: (r.description as string) ?? null,
    annotationsText: typeof r.annotations === "string" ? r.annotations : null,
    category: (r.c_category as string) ?? null,
    risk: (r.c_risk as string) ?? null,
    access: (r.c_access as string) ?? null,
    flagsText: typeof r.c_flags === "string" ? r.c_flags : null,
    key,
  };
}

/** Up to limit + 1 current tools matching the filters (and the FTS `match`, when given), in the order asked. */
export function toolListRows(
  sqlite: Database.Database,
  f: ToolFilters,
  match: string | undefined,
  order: ToolOrder,
  limit: number,
): Tiered<ToolListRow>[] {
  ensureBudgetFunction(sqlite);
  const where: string[] = ["qbudget()", "t.removed_at IS NULL", "s.status != 'removed'"];
  const args: unknown[] = [];
  if (f.serverId !== undefined) {
    where.push("t.server_id = ?");
    args.push(f.serverId);
  }
  // Ordered by name or risk, the ordered index is read and category/risk are checked per row (`+` keeps SQLite from
  // choosing the category/risk index and then sorting all its rows: 0.9 s for category=Destructive&sort=name at 500k).
  const ordered = order.by === "name" || order.by === "risk" ? "+" : "";
  if (f.category) {
    where.push(`${ordered}t.category = ?`);
    args.push(f.category);
  }
  if (f.risk) {
    where.push(`${ordered}t.risk = ?`);
    args.push(f.risk);
  }
  if (f.annotation === "any") where.push("t.annotations IS NOT NULL AND t.annotations NOT IN ('{}', 'null')");
  else if (f.annotation === "none") where.push("(t.annotations IS NULL OR t.annotations IN ('{}', 'null'))");
  else if (f.annotation) {
    where.push("json_type(t.annotations, '$.' || ?) IS NOT NULL");
    args.push(f.annotation);
  }
  if (f.flag) {
    // tool_flags (kept by triggers) holds the kinds of each tool's current flags: an index, not a JSON scan.
    where.push("t.id IN (SELECT tf.tool_id FROM tool_flags tf WHERE tf.kind = ?)");
    args.push(f.flag);
  }
  const select = `SELECT ${TOOL_SUMMARY_COLUMNS}`;
  if (order.by === "relevance" && match) {
    return tieredSearch<Record<string, unknown>>(
      sqlite,
      "tools_fts",
      match,
      order.after,
      limit,
      // The page's ids first, in the FTS index's own rowid order (SQLite reads it in order and stops at the
      // limit), then the columns and the current classification for those rows only. Joined in one query, the
      // classification's correlated lookup made SQLite read every match and sort them: O(matches) per page.
      (fts) =>
        `${select} FROM (SELECT t.id AS pid, f.fid FROM ${fts} JOIN tools t ON t.id = f.fid
           JOIN servers s ON s.id = t.server_id WHERE ${ftsDriven(where)} ORDER BY f.fid LIMIT ?) page
         JOIN tools t ON t.id = page.pid JOIN servers s ON s.id = t.server_id ${CLASSIFICATION_JOIN}
         ORDER BY page.fid`,
      args,
    ).map((r) => toToolListRow(r, 0, r.tier));
  }
  const ftsArgs: unknown[] = [];
  let from = "tools t";
  if (match) {
    from = "(SELECT rowid AS fid FROM tools_fts WHERE tools_fts MATCH ? AND qbudget()) f JOIN tools t ON t.id = f.fid";
    ftsArgs.push(match);
  }
  from += " JOIN servers s ON s.id = t.server_id";
  const keyCols: Record<ToolSort, { select: string[]; order: string[] }> = {
    server: { select: ["t.server_id", "t.name"], order: ["t.server_id", "t.name", "t.id"] },
    name: { select: ["t.name"], order: ["t.name", "t.id"] },
    risk: { select: [RISK_RANK], order: [RISK_RANK, "t.id"] },
  };
  const sort: ToolSort = order.by === "relevance" ? "server" : order.by;
  const k = keyCols[sort];
  if (order.by !== "relevance" && order.after) {
    where.push(`(${k.order.join(", ")}) > (${k.order.map(() => "?").join(", ")})`);
    args.push(...order.after);
  }
  // The page's ids first (filters and order on the tools' own columns and indexes), then the columns and the
  // current classification for those rows only: a filter that keeps a thousand rows sorted them with every
  // row's classification looked up and its JSON columns read.
  const rows = prep(
    sqlite,
    `${select}${k.select.map((e, i) => `, ${e} AS k${i}`).join("")}
       FROM (SELECT t.id AS pid FROM ${from} WHERE ${where.join(" AND ")} ORDER BY ${k.order.join(", ")} LIMIT ?) page
       JOIN tools t ON t.id = page.pid JOIN servers s ON s.id = t.server_id ${CLASSIFICATION_JOIN}
       ORDER BY ${k.order.join(", ")}`,
  ).all(...ftsArgs, ...args, limit + 1) as Record<string, unknown>[];
  return rows.map((r) => toToolListRow(r, k.select.length, 0));
}

/** A server's current tools with classifications, by name (the store's serverTools over a cached statement). */
export function currentTools(sqlite: Database.Database, serverId: number): ToolRow[] {
  const rows = prep(
    sqlite,
    `SELECT ${TOOL_COLUMNS} FROM tools t ${CLASSIFICATION_JOIN} WHERE t.server_id = ? AND t.removed_at IS NULL ORDER BY t.name`,
  ).all(serverId) as Record<string, unknown>[];
  return rows.map(toToolRow);
}

/** What a server detail shows of each current tool: the stored definition is measured in SQL, never parsed. */
export interface ToolOutlineRow {
  name: string;
  slug: string;
  title: string | null;
  /** Length of the stored definition JSON (JSON.stringify output, so the length a token cost is based on). */
  rawLen: number;
  category: string | null;
  risk: string | null;
  /** The classification's flags as stored (JSON text), null when unclassified. */
  flagsText: string | null;
}

/** A server's current tools as a detail page outlines them, by name. */
export function toolOutlines(sqlite: Database.Database, serverId: number): ToolOutlineRow[] {
  const rows = prep(sqlite, SQL.toolOutlines).all(serverId) as {
    name: string;
    slug: string;
    title: string | null;
    raw_len: number;
    category: string | null;
    risk: string | null;
    flags: string | null;
  }[];
  return rows.map((t) => ({
    name: t.name,
    slug: t.slug,
    title: t.title,
    rawLen: t.raw_len,
    category: t.category,
    risk: t.risk,
    flagsText: t.flags,
  }));
}

/** The latest probe of a server (as lastProbe, over a cached statement). */
export function latestProbe(sqlite: Database.Database, serverId: number): ProbeRow | undefined {
  const pr = prep(sqlite, "SELECT * FROM probes WHERE server_id = ? ORDER BY id DESC LIMIT 1").get(serverId);
  return pr ? toProbeRow(pr as Record<string, unknown>) : undefined;
}

/** What a server's detail shows of its latest probe. */
export type ProbeBrief = Pick<
  ProbeRow,
  "outcome" | "startedAt" | "durationMs" | "transport" | "error" | "protocolVersion" | "toolCount"
> & {
  /** serverInfo and warnings as stored (JSON text; null when absent). */
  serverInfoText: string | null;
  warningsText: string | null;
};

/**
 * The latest probe of a server as its detail shows it: the columns it needs only, so the launch, timings,
 * capabilities, stderr tail and instructions are neither read nor parsed on every server detail.
 */
export function latestProbeBrief(sqlite: Database.Database, serverId: number): ProbeBrief | undefined {
  const r = prep(
    sqlite,
    `SELECT outcome, started_at, duration_ms, transport, error, protocol_version, server_info, tool_count, warnings
     FROM probes WHERE server_id = ? ORDER BY id DESC LIMIT 1`,
  ).get(serverId) as Record<string, unknown> | undefined;
  if (!r) return undefined;
  return {
    outcome: r.outcome as ProbeRow["outcome"],
    startedAt: r.started_at as string,
    durationMs: r.duration_ms as number,
    transport: r.transport as string,
    error: (r.error as string) ?? null,
    protocolVersion: (r.protocol_version as string) ?? null,
    serverInfoText: typeof r.server_info === "string" ? r.server_info : null,
    toolCount: r.tool_count as number,
    warningsText: typeof r.warnings === "string" ? r.warnings : null,
  };
}

/** Which sources list a server (as serverSources, over a cached statement). */
export function sourcesOf(
  sqlite: Database.Database,
  serverId: number,
): { sourceId: string; sourceKey: string; status: string; firstSeen: string; lastSeen: string }[] {
  return prep(
    sqlite,
    `SELECT source_id AS sourceId, source_key AS sourceKey, status, first_seen AS firstSeen, last_seen AS lastSeen
     FROM sources WHERE server_id = ? ORDER BY source_id, source_key`,
  ).all(serverId) as never;
}

/** One tool of a server by name or slug (current or removed); an exact name wins over a slug. */
export function toolByRef(sqlite: Database.Database, serverId: number, ref: string): ToolRow | undefined {
  // Two index lookups (exact name, then slug) instead of an OR with a sort: the hot path of tool detail.
  const r = toolRecordByRef(sqlite, serverId, ref);
  return r ? toToolRow(r) : undefined;
}

/**
 * One tool of a server by exact name, else by slug, as stored: the TOOL_COLUMNS row with its JSON columns as text
 * (see toToolRow for the parsed form). Tool detail splices these texts into its answer instead of parsing them.
 */
export function toolRecordByRef(
  sqlite: Database.Database,
  serverId: number,
  ref: string,
): Record<string, unknown> | undefined {
  return (prep(sqlite, SQL.toolByName).get(serverId, ref) ?? prep(sqlite, SQL.toolBySlug).get(serverId, ref)) as
    | Record<string, unknown>
    | undefined;
}

/** What check_tool needs of a tool: no definition or schemas (the largest columns, parsed only to be dropped). */
export type ToolCheckRow = Pick<ToolRow, "name" | "slug" | "annotations" | "hash" | "removedAt" | "classification">;

/** One tool of a server by exact name, else by slug (current or removed), as check_tool reads it. */
export function toolForCheck(sqlite: Database.Database, serverId: number, ref: string): ToolCheckRow | undefined {
  const cols = `t.name, t.slug, t.annotations, t.hash, t.removed_at,
    c.access AS c_access, c.destructive AS c_destructive, c.financial AS c_financial, c.category AS c_category,
    c.risk AS c_risk, c.confidence AS c_confidence, c.signals AS c_signals, c.flags AS c_flags, c.source AS c_source,
    c.classifier_version AS c_version`;
  const r = (prep(
    sqlite,
    `SELECT ${cols} FROM tools t ${CLASSIFICATION_JOIN} WHERE t.server_id = ? AND t.name = ?`,
  ).get(serverId, ref) ??
    prep(sqlite, `SELECT ${cols} FROM tools t ${CLASSIFICATION_JOIN} WHERE t.server_id = ? AND t.slug = ?`).get(
      serverId,
      ref,
    )) as Record<string, unknown> | undefined;
  if (!r) return undefined;
  const row = toToolRow({ ...r, raw: null, input_schema: null, output_schema: null });
  return {
    name: row.name,
    slug: row.slug,
    annotations: row.annotations,
    hash: row.hash,
    removedAt: row.removedAt,
    classification: row.classification,
  };
}

/** Every stored version of one tool, oldest first, with its definition as stored (JSON text). */
export function versionRows(
  sqlite: Database.Database,
  serverId: number,
  toolName: string,
): { hash: string; raw: string; firstSeen: string; lastSeen: string }[] {
  return prep(
    sqlite,
    `SELECT hash, raw, first_seen AS firstSeen, last_seen AS lastSeen FROM tool_versions
     WHERE server_id = ? AND tool_name = ? ORDER BY first_seen, id`,
  ).all(serverId, toolName) as never;
}

/** The change events of one tool, oldest first, as stored: CHANGE_COLUMNS rows, `details` as its JSON text. */
export function toolChangeRecords(
  sqlite: Database.Database,
  serverId: number,
  toolName: string,
): Record<string, unknown>[] {
  return prep(sqlite, SQL.toolChanges).all(serverId, toolName) as Record<string, unknown>[];
}

/** Whether the catalog has the `changes` table (older catalogs opened read-only may not). */
export function hasChangesTable(sqlite: Database.Database): boolean {
  // Once there, the table stays (no migration drops it): remembered per connection, asked again only while missing.
  if (withChanges.has(sqlite)) return true;
  const found = !!prep(sqlite, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'changes'").get();
  if (found) withChanges.add(sqlite);
  return found;
}
const withChanges = new WeakSet<Database.Database>();

/** A change event row with its server's slug and name. */
export interface ChangeListRow {
  id: number;
  serverId: number;
  serverSlug: string;
  serverName: string;
  at: string;
  toolName: string;
  kind: string;
  severity: string;
  reason: string;
  fromHash: string | null;
  toHash: string | null;
  details: unknown;
}

/** Up to limit + 1 change events, newest first, optionally of one server or severity, older than `beforeId`. */
export function changeListRows(
  sqlite: Database.Database,
  f: { serverId?: number | undefined; severity?: string | undefined; beforeId?: number | undefined },
  limit: number,
): ChangeListRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.serverId !== undefined) {
    where.push("ch.server_id = ?");
    args.push(f.serverId);
  }
  if (f.severity) {
    where.push("ch.severity = ?");
    args.push(f.severity);
  }
  if (f.beforeId !== undefined) {
    where.push("ch.id < ?");
    args.push(f.beforeId);
  }
  const rows = prep(
    sqlite,
    `SELECT ch.*, s.slug AS server_slug, s.name AS server_name FROM changes ch JOIN servers s ON s.id = ch.server_id
       ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY ch.id DESC LIMIT ?`,
  ).all(...args, limit + 1) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: r.id as number,
    serverId: r.server_id as number,
    serverSlug: r.server_slug as string,
    serverName: r.server_name as string,
    at: r.at as string,
    toolName: r.tool_name as string,
    kind: r.kind as string,
    severity: r.severity as string,
    reason: r.reason as string,
    fromHash: (r.from_hash as string) ?? null,
    toHash: (r.to_hash as string) ?? null,
    details: typeof r.details === "string" ? JSON.parse(r.details) : null,
  }));
}

const JOURNAL = new URL("./migrations/meta/_journal.json", import.meta.url);

/** Whether every committed migration has been applied to this catalog (throws when the catalog cannot be read). */
export function migrationsApplied(sqlite: Database.Database): { ok: boolean; detail: string } {
  sqlite.prepare("SELECT 1").get();
  const journal = JSON.parse(readFileSync(JOURNAL, "utf8")) as { entries: unknown[] };
  const table = sqlite
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .get();
  const applied = table
    ? (sqlite.prepare("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n
    : 0;
  const want = journal.entries.length;
  return { ok: applied >= want, detail: `${applied} of ${want} migrations applied` };
}
