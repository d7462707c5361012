import type Database from "better-sqlite3";
import type { RawTool } from "../core/types.js";
import { renderToolDiff } from "../history/diff.js";
import type { ChangeEvent } from "../history/events.js";
import { toolHistory } from "../history/index.js";
import {
  CLASSIFICATION_JOIN,
  type ServerRow,
  TOOL_COLUMNS,
  type ToolRow,
  toProbeRow,
  toServerRow,
  toToolRow,
} from "../store/queries.js";
import { type CursorKey, decodeCursor, encodeCursor } from "./cursor.js";
import { ApiError } from "./errors.js";
import { ftsQuery } from "./fts.js";
import type { ServerListQuery, ToolListQuery } from "./params.js";

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** A prepared statement, cached per connection: the hot paths run the same few SQL texts again and again. */
export function prep(sqlite: Database.Database, sql: string): Database.Statement {
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

/** One page of a list: items in a stable order and the cursor of the next page (null on the last). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Approximate tokens a model spends on a JSON value: characters / 4, rounded up. */
export function tokenCost(value: unknown): number {
  return Math.ceil(JSON.stringify(value).length / 4);
}

const RISK_RANK =
  "CASE c.risk WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END";

/** What a list row says about a server. */
export interface ServerSummary {
  id: number;
  slug: string;
  name: string;
  title: string | null;
  description: string | null;
  version: string | null;
  status: string;
  repositoryUrl: string | null;
  transports: string[];
  runtimes: string[];
  probe: { outcome: string; at: string } | null;
  toolCount: number;
}

/** Transports a server offers, from its packages (stdio unless said otherwise) and remotes. */
export function serverTransports(s: ServerRow): string[] {
  const out = new Set<string>();
  for (const p of s.packages as { transport?: { type?: unknown } }[]) {
    const t = p?.transport?.type;
    out.add(typeof t === "string" ? t : "stdio");
  }
  for (const r of s.remotes as { type?: unknown }[]) if (typeof r?.type === "string") out.add(r.type);
  return [...out].sort();
}

/** Runtimes a server needs: package registry types and runtime hints, plus `remote` when it has remotes. */
export function serverRuntimes(s: ServerRow): string[] {
  const out = new Set<string>();
  for (const p of s.packages as { registryType?: unknown; runtimeHint?: unknown }[]) {
    if (typeof p?.registryType === "string") out.add(p.registryType.toLowerCase());
    if (typeof p?.runtimeHint === "string") out.add(p.runtimeHint.toLowerCase());
  }
  if (s.remotes.length > 0) out.add("remote");
  return [...out].sort();
}

function toServerSummary(r: Record<string, unknown>): ServerSummary {
  const s = toServerRow(r);
  return {
    id: s.id,
    slug: s.slug,
    name: s.name,
    title: s.title,
    description: s.description,
    version: s.version,
    status: s.status,
    repositoryUrl: s.repositoryUrl,
    transports: serverTransports(s),
    runtimes: serverRuntimes(s),
    probe: r.probe_outcome ? { outcome: r.probe_outcome as string, at: r.probe_at as string } : null,
    toolCount: r.tool_count as number,
  };
}

/**
 * Relevance without ranking every match (bm25 over all matches costs O(matches): seconds for a common word in a
 * large catalog). Two tiers: rows whose name or title match, then rows that match only elsewhere; by id within a
 * tier. Each tier is an FTS scan in rowid order that stops at the page size, so a page costs O(page), not O(matches).
 * `sql` receives the FTS subquery as `f(fid)` and takes (match, after id, ...filterArgs, limit).
 */
function tieredSearch(
  sqlite: Database.Database,
  table: "tools_fts" | "servers_fts",
  match: string,
  cursor: CursorKey | null,
  limit: number,
  sql: (fts: string) => string,
  filterArgs: unknown[],
): Record<string, unknown>[] {
  let startTier = 0;
  let afterId = 0;
  if (cursor) {
    [startTier, afterId] = cursor.map(Number) as [number, number];
    if (!(startTier === 0 || startTier === 1) || !Number.isSafeInteger(afterId)) {
      throw new ApiError("bad_input", "cursor: not a cursor this API issued", "cursor");
    }
  }
  const st = prep(sqlite, sql(`(SELECT rowid AS fid FROM ${table} WHERE ${table} MATCH ? AND rowid > ?) f`));
  const out: Record<string, unknown>[] = [];
  for (let tier = startTier; tier < 2 && out.length <= limit; tier++) {
    const expr = tier === 0 ? `{name title} : (${match})` : `(${match}) NOT ({name title} : (${match}))`;
    const rows = st.all(expr, tier === startTier ? afterId : 0, ...filterArgs, limit + 1 - out.length) as Record<
      string,
      unknown
    >[];
    for (const r of rows) out.push({ ...r, _tier: tier });
  }
  return out;
}

/** Servers matching the filters, one page at a time, in a stable order (name, or search relevance tiers). */
export function listServerPage(sqlite: Database.Database, q: ServerListQuery): Page<ServerSummary> {
  const where: string[] = ["s.status != 'removed'"];
  const args: unknown[] = [];
  const sort = q.sort ?? (q.q ? "relevance" : "name");
  const match = q.q === undefined ? undefined : ftsQuery(q.q);
  if (match === null) return { items: [], nextCursor: null };
  if (sort === "relevance" && match === undefined)
    throw new ApiError("bad_input", "sort: `relevance` needs a q", "sort");
  if (q.source) {
    where.push(
      "EXISTS (SELECT 1 FROM sources so WHERE so.server_id = s.id AND so.source_id = ? AND so.status != 'removed')",
    );
    args.push(q.source);
  }
  if (q.transport) {
    where.push(`(EXISTS (SELECT 1 FROM json_each(s.packages) je WHERE coalesce(json_extract(je.value, '$.transport.type'), 'stdio') = ?)
      OR EXISTS (SELECT 1 FROM json_each(s.remotes) je WHERE json_extract(je.value, '$.type') = ?))`);
    args.push(q.transport, q.transport);
  }
  if (q.runtime) {
    where.push(`(EXISTS (SELECT 1 FROM json_each(s.packages) je WHERE lower(json_extract(je.value, '$.registryType')) = ?
      OR lower(json_extract(je.value, '$.runtimeHint')) = ?) OR (? = 'remote' AND json_array_length(s.remotes) > 0))`);
    args.push(q.runtime, q.runtime, q.runtime);
  }
  if (q.outcome === "unprobed") where.push("s.last_probe_id IS NULL");
  else if (q.outcome) {
    where.push("p.outcome = ?");
    args.push(q.outcome);
  }
  if (q.category || q.risk) {
    const cond: string[] = [];
    if (q.category) {
      cond.push("t.category = ?");
      args.push(q.category);
    }
    if (q.risk) {
      cond.push("t.risk = ?");
      args.push(q.risk);
    }
    where.push(
      `EXISTS (SELECT 1 FROM tools t WHERE t.server_id = s.id AND t.removed_at IS NULL AND ${cond.join(" AND ")})`,
    );
  }
  const select = `SELECT s.*, p.outcome AS probe_outcome, p.started_at AS probe_at,
        (SELECT count(*) FROM tools tc WHERE tc.server_id = s.id AND tc.removed_at IS NULL) AS tool_count`;
  if (sort === "relevance" && match) {
    const cursor = q.cursor ? decodeCursor(q.cursor, sort, 2) : null;
    const rows = tieredSearch(
      sqlite,
      "servers_fts",
      match,
      cursor,
      q.limit,
      (fts) =>
        `${select} FROM ${fts} JOIN servers s ON s.id = f.fid LEFT JOIN probes p ON p.id = s.last_probe_id
         WHERE ${where.join(" AND ")} ORDER BY f.fid LIMIT ?`,
      args,
    );
    return page(rows, q.limit, sort, (r) => [r._tier as number, r.id as number], toServerSummary);
  }
  const ftsArgs: unknown[] = [];
  let from = "servers s LEFT JOIN probes p ON p.id = s.last_probe_id";
  if (match) {
    from = `(SELECT rowid AS fid FROM servers_fts WHERE servers_fts MATCH ?) f JOIN ${from.replace("servers s", "servers s ON s.id = f.fid")}`;
    ftsArgs.push(match);
  }
  if (q.cursor) {
    const key = decodeCursor(q.cursor, sort, 2);
    where.push("(s.name, s.id) > (?, ?)");
    args.push(...key);
  }
  const rows = prep(sqlite, `${select} FROM ${from} WHERE ${where.join(" AND ")} ORDER BY s.name, s.id LIMIT ?`).all(
    ...ftsArgs,
    ...args,
    q.limit + 1,
  ) as Record<string, unknown>[];
  return page(rows, q.limit, sort, (r) => [r.name as string, r.id as number], toServerSummary);
}

function page<T>(
  rows: Record<string, unknown>[],
  limit: number,
  sort: string,
  keyOf: (r: Record<string, unknown>) => CursorKey,
  map: (r: Record<string, unknown>) => T,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(map), nextCursor: more && last ? encodeCursor(sort, keyOf(last)) : null };
}

/** A tool as lists show it: enough to decide whether to look closer. */
export interface ToolSummary {
  server: { id: number; slug: string; name: string };
  name: string;
  slug: string;
  title: string | null;
  description: string | null;
  annotations: Record<string, unknown> | null;
  category: string | null;
  risk: string | null;
  access: string | null;
  flags: string[];
}

/** The columns a list row needs: no definitions or schemas, which can be large and would only be parsed to be dropped. */
const TOOL_SUMMARY_COLUMNS = `t.id, t.server_id, t.name, t.slug, t.title, t.description, t.annotations,
  c.access AS c_access, c.category AS c_category, c.risk AS c_risk, c.flags AS c_flags,
  s.name AS server_name, s.slug AS server_slug`;

function toToolSummary(r: Record<string, unknown>): ToolSummary {
  return {
    server: { id: r.server_id as number, slug: r.server_slug as string, name: r.server_name as string },
    name: r.name as string,
    slug: r.slug as string,
    title: (r.title as string) ?? null,
    description: (r.description as string) ?? null,
    annotations: typeof r.annotations === "string" ? (JSON.parse(r.annotations) as Record<string, unknown>) : null,
    category: (r.c_category as string) ?? null,
    risk: (r.c_risk as string) ?? null,
    access: (r.c_access as string) ?? null,
    flags: typeof r.c_flags === "string" ? (JSON.parse(r.c_flags) as string[]) : [],
  };
}

/** Finds a server by slug, exact name or numeric id (as the store's findServer, over cached statements). */
export function lookupServer(sqlite: Database.Database, ref: string): ServerRow | undefined {
  const r =
    (prep(sqlite, "SELECT * FROM servers WHERE slug = ? OR name = ?").get(ref, ref) as Record<string, unknown>) ??
    (/^\d+$/.test(ref) ? (prep(sqlite, "SELECT * FROM servers WHERE id = ?").get(Number(ref)) as never) : undefined);
  return r ? toServerRow(r) : undefined;
}

/** Resolves a server reference (id, slug or name) or answers 404 naming it. */
export function requireServer(sqlite: Database.Database, ref: string, parameter = "server"): ServerRow {
  const s = lookupServer(sqlite, ref);
  if (!s) throw new ApiError("not_found", `server not found: ${JSON.stringify(ref)}`, parameter);
  return s;
}

/** Current tools matching the filters, one page at a time, in a stable order. */
export function listToolPage(sqlite: Database.Database, q: ToolListQuery): Page<ToolSummary> {
  const where: string[] = ["t.removed_at IS NULL", "s.status != 'removed'"];
  const args: unknown[] = [];
  const sort = q.sort ?? (q.q ? "relevance" : "server");
  const match = q.q === undefined ? undefined : ftsQuery(q.q);
  if (match === null) return { items: [], nextCursor: null };
  if (sort === "relevance" && match === undefined)
    throw new ApiError("bad_input", "sort: `relevance` needs a q", "sort");
  if (q.server) {
    where.push("t.server_id = ?");
    args.push(requireServer(sqlite, q.server).id);
  }
  if (q.category) {
    where.push("t.category = ?");
    args.push(q.category);
  }
  if (q.risk) {
    where.push("t.risk = ?");
    args.push(q.risk);
  }
  if (q.annotation === "any") where.push("t.annotations IS NOT NULL AND t.annotations NOT IN ('{}', 'null')");
  else if (q.annotation === "none") where.push("(t.annotations IS NULL OR t.annotations IN ('{}', 'null'))");
  else if (q.annotation) {
    where.push("json_type(t.annotations, '$.' || ?) IS NOT NULL");
    args.push(q.annotation);
  }
  if (q.flag) {
    where.push("EXISTS (SELECT 1 FROM json_each(c.flags) fl WHERE fl.value = ? OR fl.value LIKE ? || ':%')");
    args.push(q.flag, q.flag);
  }
  const select = `SELECT ${TOOL_SUMMARY_COLUMNS}`;
  if (sort === "relevance" && match) {
    const cursor = q.cursor ? decodeCursor(q.cursor, sort, 2) : null;
    const rows = tieredSearch(
      sqlite,
      "tools_fts",
      match,
      cursor,
      q.limit,
      (fts) =>
        `${select} FROM ${fts} JOIN tools t ON t.id = f.fid JOIN servers s ON s.id = t.server_id ${CLASSIFICATION_JOIN}
         WHERE ${where.join(" AND ")} ORDER BY f.fid LIMIT ?`,
      args,
    );
    return page(rows, q.limit, sort, (r) => [r._tier as number, r.id as number], toToolSummary);
  }
  const ftsArgs: unknown[] = [];
  let from = "tools t";
  if (match) {
    from = "(SELECT rowid AS fid FROM tools_fts WHERE tools_fts MATCH ?) f JOIN tools t ON t.id = f.fid";
    ftsArgs.push(match);
  }
  from += ` JOIN servers s ON s.id = t.server_id ${CLASSIFICATION_JOIN}`;
  const keyCols: Record<string, { select: string[]; order: string[] }> = {
    server: { select: ["t.server_id", "t.name"], order: ["t.server_id", "t.name", "t.id"] },
    name: { select: ["t.name"], order: ["t.name", "t.id"] },
    risk: { select: [RISK_RANK], order: [RISK_RANK, "t.id"] },
  };
  const k = keyCols[sort]!;
  if (q.cursor) {
    const key = decodeCursor(q.cursor, sort, k.order.length);
    where.push(`(${k.order.join(", ")}) > (${k.order.map(() => "?").join(", ")})`);
    args.push(...key);
  }
  const rows = prep(
    sqlite,
    `${select}${k.select.map((e, i) => `, ${e} AS k${i}`).join("")}
       FROM ${from} WHERE ${where.join(" AND ")} ORDER BY ${k.order.join(", ")} LIMIT ?`,
  ).all(...ftsArgs, ...args, q.limit + 1) as Record<string, unknown>[];
  return page(
    rows,
    q.limit,
    sort,
    (r) => [...k.select.map((_, i) => r[`k${i}`] as string | number), r.id as number],
    toToolSummary,
  );
}

/** A server's current tools with classifications, by name (the store's serverTools over a cached statement). */
export function currentTools(sqlite: Database.Database, serverId: number): ToolRow[] {
  const rows = prep(
    sqlite,
    `SELECT ${TOOL_COLUMNS} FROM tools t ${CLASSIFICATION_JOIN} WHERE t.server_id = ? AND t.removed_at IS NULL ORDER BY t.name`,
  ).all(serverId) as Record<string, unknown>[];
  return rows.map(toToolRow);
}

/** Everything the API says about one server. */
export function serverDetail(sqlite: Database.Database, ref: string) {
  const s = requireServer(sqlite, ref);
  // Only what the answer shows: the stored raw JSON is measured in SQL, never parsed (servers can have hundreds of
  // tools). The raw column holds JSON.stringify output, so its length is the length the token cost is based on.
  const tools = prep(
    sqlite,
    `SELECT t.name, t.slug, t.title, length(t.raw) AS raw_len, c.category, c.risk, c.flags
     FROM tools t ${CLASSIFICATION_JOIN} WHERE t.server_id = ? AND t.removed_at IS NULL ORDER BY t.name`,
  ).all(s.id) as {
    name: string;
    slug: string;
    title: string | null;
    raw_len: number;
    category: string | null;
    risk: string | null;
    flags: string | null;
  }[];
  const pr = prep(sqlite, "SELECT * FROM probes WHERE server_id = ? ORDER BY id DESC LIMIT 1").get(s.id);
  const probe = pr ? toProbeRow(pr as Record<string, unknown>) : undefined;
  const tally = (pick: (t: (typeof tools)[number]) => string | null): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const t of tools) {
      const k = pick(t) ?? "unclassified";
      out[k] = (out[k] ?? 0) + 1;
    }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  };
  // JSON of the array of definitions: their lengths, the commas between them and the brackets.
  const arrayChars = tools.reduce((n, t) => n + t.raw_len, 0) + Math.max(0, tools.length - 1) + 2;
  return {
    ...s,
    transports: serverTransports(s),
    runtimes: serverRuntimes(s),
    probe: probe
      ? {
          outcome: probe.outcome,
          startedAt: probe.startedAt,
          durationMs: probe.durationMs,
          transport: probe.transport,
          error: probe.error,
          protocolVersion: probe.protocolVersion,
          serverInfo: probe.serverInfo,
          toolCount: probe.toolCount,
          warnings: probe.warnings,
        }
      : null,
    toolCount: tools.length,
    byCategory: tally((t) => t.category),
    byRisk: tally((t) => t.risk),
    tokenCost: Math.ceil(arrayChars / 4),
    sources: prep(
      sqlite,
      `SELECT source_id AS sourceId, source_key AS sourceKey, status, first_seen AS firstSeen, last_seen AS lastSeen
       FROM sources WHERE server_id = ? ORDER BY source_id, source_key`,
    ).all(s.id),
    tools: tools.map((t) => ({
      name: t.name,
      slug: t.slug,
      title: t.title,
      category: t.category,
      risk: t.risk,
      flags: t.flags ? (JSON.parse(t.flags) as string[]) : [],
      tokenCost: Math.ceil(t.raw_len / 4),
    })),
  };
}

/** One tool of a server by name or slug (current or removed), or a 404 naming what was missing. */
export function findTool(sqlite: Database.Database, server: ServerRow, ref: string): ToolRow {
  const r = prep(
    sqlite,
    `SELECT ${TOOL_COLUMNS} FROM tools t ${CLASSIFICATION_JOIN}
       WHERE t.server_id = ? AND (t.name = ? OR t.slug = ?) ORDER BY t.name = ? DESC LIMIT 1`,
  ).get(server.id, ref, ref, ref) as Record<string, unknown> | undefined;
  if (!r) throw new ApiError("not_found", `tool not found: ${JSON.stringify(ref)} on server ${server.name}`, "tool");
  return toToolRow(r);
}

/** Everything the API says about one tool: its definition, classification with evidence, and history. */
export function toolDetail(sqlite: Database.Database, serverRef: string, toolRef: string) {
  const s = requireServer(sqlite, serverRef);
  const t = findTool(sqlite, s, toolRef);
  let history: {
    hash: string;
    firstSeen: string;
    lastSeen: string;
    current: boolean;
    definition: RawTool;
    diff: string[];
  }[];
  let changes: ChangeItem[] = [];
  if (hasChangesTable(sqlite)) {
    const h = toolHistory(sqlite, s.id, t.name);
    history = h.versions.map((v) => ({
      hash: v.hash,
      firstSeen: v.firstSeen,
      lastSeen: v.lastSeen,
      current: v.hash === t.hash,
      definition: v.definition,
      diff: v.diff,
    }));
    changes = h.changes.map(changeItem);
  } else {
    // An older catalog opened read-only has no change events; its versions still get their diffs.
    const versions = prep(
      sqlite,
      `SELECT hash, raw, first_seen AS firstSeen, last_seen AS lastSeen FROM tool_versions
       WHERE server_id = ? AND tool_name = ? ORDER BY first_seen, id`,
    ).all(s.id, t.name) as { hash: string; raw: string; firstSeen: string; lastSeen: string }[];
    let prev: RawTool | null = null;
    history = versions.map((v) => {
      const definition = JSON.parse(v.raw) as RawTool;
      const diff = prev ? renderToolDiff(prev, definition) : [];
      prev = definition;
      return {
        hash: v.hash,
        firstSeen: v.firstSeen,
        lastSeen: v.lastSeen,
        current: v.hash === t.hash,
        definition,
        diff,
      };
    });
  }
  return {
    server: { id: s.id, slug: s.slug, name: s.name, status: s.status },
    name: t.name,
    slug: t.slug,
    title: t.title,
    description: t.description,
    annotations: t.annotations,
    inputSchema: t.inputSchema,
    outputSchema: t.outputSchema,
    definition: t.raw as RawTool,
    hash: t.hash,
    firstSeen: t.firstSeen,
    lastSeen: t.lastSeen,
    removedAt: t.removedAt,
    tokenCost: tokenCost(t.raw),
    classification: t.classification,
    history,
    changes,
  };
}

/** Whether the catalog has the `changes` table (older catalogs opened read-only may not). */
export function hasChangesTable(sqlite: Database.Database): boolean {
  return !!prep(sqlite, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'changes'").get();
}

/** One entry of the changes feed. */
export interface ChangeItem {
  id: number;
  server: { id: number; slug: string; name: string };
  at: string;
  tool: string;
  kind: string;
  severity: string;
  reason: string;
  fromHash: string | null;
  toHash: string | null;
  details: unknown;
}

/** A recorded change event in the shape the changes feed uses. */
function changeItem(c: ChangeEvent): ChangeItem {
  return {
    id: c.id,
    server: { id: c.serverId, slug: c.serverSlug, name: c.server },
    at: c.at,
    tool: c.toolName,
    kind: c.kind,
    severity: c.severity,
    reason: c.reason,
    fromHash: c.fromHash,
    toHash: c.toHash,
    details: c.details,
  };
}

/** The changes feed, newest first, optionally of one server or one severity. */
export function listChangesPage(
  sqlite: Database.Database,
  q: { limit: number; cursor?: string | undefined; server?: string | undefined; severity?: string | undefined },
): Page<ChangeItem> {
  if (!hasChangesTable(sqlite)) return { items: [], nextCursor: null };
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.server) {
    where.push("ch.server_id = ?");
    args.push(requireServer(sqlite, q.server).id);
  }
  if (q.severity) {
    where.push("ch.severity = ?");
    args.push(q.severity);
  }
  if (q.cursor) {
    // Newest first: the key is the negated id, so "after the cursor" stays a greater-than like every other list.
    const [neg] = decodeCursor(q.cursor, "changes", 1);
    where.push("ch.id < ?");
    args.push(-Number(neg));
  }
  const rows = prep(
    sqlite,
    `SELECT ch.*, s.slug AS server_slug, s.name AS server_name FROM changes ch JOIN servers s ON s.id = ch.server_id
       ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY ch.id DESC LIMIT ?`,
  ).all(...args, q.limit + 1) as Record<string, unknown>[];
  return page(
    rows,
    q.limit,
    "changes",
    (r) => [-(r.id as number)],
    (r) => ({
      id: r.id as number,
      server: { id: r.server_id as number, slug: r.server_slug as string, name: r.server_name as string },
      at: r.at as string,
      tool: r.tool_name as string,
      kind: r.kind as string,
      severity: r.severity as string,
      reason: r.reason as string,
      fromHash: (r.from_hash as string) ?? null,
      toHash: (r.to_hash as string) ?? null,
      details: typeof r.details === "string" ? JSON.parse(r.details) : null,
    }),
  );
}
