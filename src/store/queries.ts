import type Database from "better-sqlite3";
import { and, asc, count, countDistinct, desc, eq, getTableColumns, isNull, ne, or, sql } from "drizzle-orm";
import { alias, QueryBuilder } from "drizzle-orm/sqlite-core";
import type { Classification, ProbeOutcome, RawTool } from "../core/types.js";
import { classificationOf } from "./classification-row.js";
import { orm } from "./db.js";
import { classifications, probes, servers, sources, tools, toolVersions as toolVersionsTable } from "./schema.js";

/** A server row as read back from the catalog. */
export interface ServerRow {
  id: number;
  slug: string;
  name: string;
  title: string | null;
  description: string | null;
  version: string | null;
  repositoryUrl: string | null;
  websiteUrl: string | null;
  packages: unknown[];
  remotes: unknown[];
  status: string;
  firstSeen: string;
  lastSeen: string;
  lastProbeId: number | null;
  lastOkProbeAt: string | null;
  /** When anything the server's answers show last changed (null only in a catalog not yet migrated). */
  updatedAt: string | null;
}

/** A current tool with its stored classification (null when not yet classified). */
export interface ToolRow {
  id: number;
  serverId: number;
  name: string;
  slug: string;
  title: string | null;
  description: string | null;
  inputSchema: unknown;
  outputSchema: unknown;
  annotations: Record<string, unknown> | null;
  raw: RawTool;
  /**
   * Characters of the stored definition, when the reader has them without reading the definition (the site's bundle
   * reader: SQLite's length(), which counts a character outside the BMP once).
   */
  rawChars?: number;
  hash: string;
  firstSeen: string;
  lastSeen: string;
  removedAt: string | null;
  classification: Classification | null;
}

export interface ProbeRow {
  id: number;
  serverId: number;
  startedAt: string;
  durationMs: number;
  transport: string;
  launch: Record<string, unknown>;
  outcome: ProbeOutcome;
  error: string | null;
  stderrTail: string | null;
  timings: Record<string, number>;
  serverInfo: Record<string, unknown> | null;
  protocolVersion: string | null;
  capabilities: Record<string, unknown> | null;
  placeholders: string[];
  warnings: string[];
  auth: Record<string, unknown> | null;
  toolCount: number;
}

const parse = <T>(s: unknown, fallback: T): T => (typeof s === "string" ? (JSON.parse(s) as T) : fallback);

/** Maps a raw `servers` row. */
export function toServerRow(r: Record<string, unknown>): ServerRow {
  return {
    id: r.id as number,
    slug: r.slug as string,
    name: r.name as string,
    title: (r.title as string) ?? null,
    description: (r.description as string) ?? null,
    version: (r.version as string) ?? null,
    repositoryUrl: (r.repository_url as string) ?? null,
    websiteUrl: (r.website_url as string) ?? null,
    packages: parse(r.packages, []),
    remotes: parse(r.remotes, []),
    status: r.status as string,
    firstSeen: r.first_seen as string,
    lastSeen: r.last_seen as string,
    lastProbeId: (r.last_probe_id as number) ?? null,
    lastOkProbeAt: (r.last_ok_probe_at as string) ?? null,
    updatedAt: (r.updated_at as string) ?? null,
  };
}

/** The classification columns joined onto tools: the newest classification of the definition hash. */
export const CLASSIFICATION_JOIN = `LEFT JOIN classifications c ON c.hash = t.hash AND c.rowid = (
  SELECT c2.rowid FROM classifications c2 WHERE c2.hash = t.hash ORDER BY c2.created_at DESC, c2.rowid DESC LIMIT 1)`;

export const TOOL_COLUMNS = `t.id, t.server_id, t.name, t.slug, t.title, t.description, t.input_schema, t.output_schema,
  t.annotations, t.raw, t.hash, t.first_seen, t.last_seen, t.removed_at,
  c.access AS c_access, c.destructive AS c_destructive, c.financial AS c_financial, c.category AS c_category,
  c.risk AS c_risk, c.confidence AS c_confidence, c.signals AS c_signals, c.flags AS c_flags, c.source AS c_source,
  c.classifier_version AS c_version`;

/** The classification from its ten TOOL_COLUMNS values (access … classifier_version, in that order); null if none. */
export function classificationFrom(v: readonly unknown[]): Classification | null {
  if (v[0] == null) return null;
  return {
    access: v[0] as Classification["access"],
    destructive: !!v[1],
    financial: !!v[2],
    category: v[3] as Classification["category"],
    risk: v[4] as Classification["risk"],
    confidence: v[5] as number,
    signals: parse(v[6], []),
    flags: parse(v[7], []),
    source: v[8] as string,
    classifierVersion: v[9] as string,
  };
}

/** Maps a row selected with TOOL_COLUMNS. */
export function toToolRow(r: Record<string, unknown>): ToolRow {
  return {
    id: r.id as number,
    serverId: r.server_id as number,
    name: r.name as string,
    slug: r.slug as string,
    title: (r.title as string) ?? null,
    description: (r.description as string) ?? null,
    inputSchema: parse(r.input_schema, null),
    outputSchema: parse(r.output_schema, null),
    annotations: parse(r.annotations, null),
    raw: parse(r.raw, { name: r.name as string }),
    hash: r.hash as string,
    firstSeen: r.first_seen as string,
    lastSeen: r.last_seen as string,
    removedAt: (r.removed_at as string) ?? null,
    classification: classificationFrom([
      r.c_access,
      r.c_destructive,
      r.c_financial,
      r.c_category,
      r.c_risk,
      r.c_confidence,
      r.c_signals,
      r.c_flags,
      r.c_source,
      r.c_version,
    ]),
  };
}

/** The columns of a ServerRow (every servers column but the revision counter). */
const serverColumns = {
  id: servers.id,
  slug: servers.slug,
  name: servers.name,
  title: servers.title,
  description: servers.description,
  version: servers.version,
  repositoryUrl: servers.repositoryUrl,
  websiteUrl: servers.websiteUrl,
  packages: servers.packages,
  remotes: servers.remotes,
  status: servers.status,
  firstSeen: servers.firstSeen,
  lastSeen: servers.lastSeen,
  lastProbeId: servers.lastProbeId,
  lastOkProbeAt: servers.lastOkProbeAt,
  updatedAt: servers.updatedAt,
};

/** Finds a server by slug, exact name, or numeric id. */
export function findServer(sqlite: Database.Database, ref: string): ServerRow | undefined {
  const db = orm(sqlite);
  return (
    db
      .select(serverColumns)
      .from(servers)
      .where(or(eq(servers.slug, ref), eq(servers.name, ref)))
      .get() ??
    (/^\d+$/.test(ref)
      ? db
          .select(serverColumns)
          .from(servers)
          .where(eq(servers.id, Number(ref)))
          .get()
      : undefined)
  );
}

/** All servers in a stable order (by name). */
export function listServers(sqlite: Database.Database, opts: { includeRemoved?: boolean } = {}): ServerRow[] {
  return orm(sqlite)
    .select(serverColumns)
    .from(servers)
    .where(opts.includeRemoved ? undefined : ne(servers.status, "removed"))
    .orderBy(asc(servers.name))
    .all();
}

/** The newest classification of each tool's definition hash (the query builder's form of CLASSIFICATION_JOIN). */
const newest = alias(classifications, "c2");
const newestClassification = and(
  eq(classifications.hash, tools.hash),
  eq(
    sql`${classifications}.rowid`,
    new QueryBuilder()
      .select({ rowid: sql`${newest}.rowid` })
      .from(newest)
      .where(eq(newest.hash, tools.hash))
      .orderBy(desc(newest.createdAt), desc(sql`${newest}.rowid`))
      .limit(1),
  ),
);

/**
 * A server's current tools with the newest classification of each, by name, as a drizzle query with the server id
 * as a placeholder (exported for scripts/bench-store-builder.ts, which times it built per call).
 */
export function serverToolsQuery(sqlite: Database.Database) {
  return orm(sqlite)
    .select({
      id: tools.id,
      serverId: tools.serverId,
      name: tools.name,
      slug: tools.slug,
      title: tools.title,
      description: tools.description,
      inputSchema: tools.inputSchema,
      outputSchema: tools.outputSchema,
      annotations: tools.annotations,
      raw: tools.raw,
      hash: tools.hash,
      firstSeen: tools.firstSeen,
      lastSeen: tools.lastSeen,
      removedAt: tools.removedAt,
      c: {
        access: classifications.access,
        destructive: classifications.destructive,
        financial: classifications.financial,
        category: classifications.category,
        risk: classifications.risk,
        confidence: classifications.confidence,
        signals: classifications.signals,
        flags: classifications.flags,
        source: classifications.source,
        classifierVersion: classifications.classifierVersion,
      },
    })
    .from(tools)
    .leftJoin(classifications, newestClassification)
    .where(and(eq(tools.serverId, sql.placeholder("serverId")), isNull(tools.removedAt)))
    .orderBy(asc(tools.name));
}

/** A row of serverToolsQuery as a ToolRow. */
export function toolRowOf({ c, ...t }: ReturnType<ReturnType<typeof serverToolsQuery>["all"]>[number]): ToolRow {
  return {
    ...t,
    inputSchema: t.inputSchema ?? null,
    outputSchema: t.outputSchema ?? null,
    annotations: (t.annotations as Record<string, unknown> | null) ?? null,
    raw: (t.raw as RawTool | null) ?? { name: t.name },
    classification: c ? classificationOf(c) : null,
  };
}

const serverToolsStatements = new WeakMap<
  Database.Database,
  ReturnType<ReturnType<typeof serverToolsQuery>["prepare"]>
>();

/**
 * A server's current tools (not removed) with classifications, by name. Read once per server by the policies at a
 * crawl's end, the export and `lock`: the query is prepared once per connection (drizzle's prepared statement, rows
 * still typed by the schema) — built per call it cost 2–3× the SQL string (scripts/bench-store-builder.ts,
 * BENCHMARKS.md).
 */
export function serverTools(sqlite: Database.Database, serverId: number): ToolRow[] {
  let stmt = serverToolsStatements.get(sqlite);
  if (!stmt) {
    stmt = serverToolsQuery(sqlite).prepare();
    serverToolsStatements.set(sqlite, stmt);
  }
  return stmt.all({ serverId }).map(toolRowOf);
}

/** Maps a raw `probes` row. */
export function toProbeRow(r: Record<string, unknown>): ProbeRow {
  return {
    id: r.id as number,
    serverId: r.server_id as number,
    startedAt: r.started_at as string,
    durationMs: r.duration_ms as number,
    transport: r.transport as string,
    launch: parse(r.launch, {}),
    outcome: r.outcome as ProbeOutcome,
    error: (r.error as string) ?? null,
    stderrTail: (r.stderr_tail as string) ?? null,
    timings: parse(r.timings, {}),
    serverInfo: parse(r.server_info, null),
    protocolVersion: (r.protocol_version as string) ?? null,
    capabilities: parse(r.capabilities, null),
    placeholders: parse(r.placeholders, []),
    warnings: parse(r.warnings, []),
    auth: parse(r.auth, null),
    toolCount: r.tool_count as number,
  };
}

/** The latest probe of a server. */
export function lastProbe(sqlite: Database.Database, serverId: number): ProbeRow | undefined {
  const { instructions: _, ...columns } = getTableColumns(probes);
  const r = orm(sqlite)
    .select(columns)
    .from(probes)
    .where(eq(probes.serverId, serverId))
    .orderBy(desc(probes.id))
    .limit(1)
    .get();
  return r as ProbeRow | undefined;
}

/** Which sources list a server, with first/last seen and status. */
export function serverSources(
  sqlite: Database.Database,
  serverId: number,
): { sourceId: string; sourceKey: string; status: string; firstSeen: string; lastSeen: string }[] {
  return orm(sqlite)
    .select({
      sourceId: sources.sourceId,
      sourceKey: sources.sourceKey,
      status: sources.status,
      firstSeen: sources.firstSeen,
      lastSeen: sources.lastSeen,
    })
    .from(sources)
    .where(eq(sources.serverId, serverId))
    .orderBy(asc(sources.sourceId), asc(sources.sourceKey))
    .all();
}

/** Every stored version of one tool, oldest first. */
export function toolVersions(
  sqlite: Database.Database,
  serverId: number,
  toolName: string,
): { hash: string; raw: RawTool; firstSeen: string; lastSeen: string }[] {
  const rows = orm(sqlite)
    .select({
      hash: toolVersionsTable.hash,
      raw: toolVersionsTable.raw,
      firstSeen: toolVersionsTable.firstSeen,
      lastSeen: toolVersionsTable.lastSeen,
    })
    .from(toolVersionsTable)
    .where(and(eq(toolVersionsTable.serverId, serverId), eq(toolVersionsTable.toolName, toolName)))
    .orderBy(asc(toolVersionsTable.firstSeen), asc(toolVersionsTable.id))
    .all();
  return rows as { hash: string; raw: RawTool; firstSeen: string; lastSeen: string }[];
}

/** Catalog totals: servers, tools by category and risk, probe outcomes (of each server's latest probe). */
export function catalogStats(sqlite: Database.Database): {
  servers: number;
  serversBySource: Record<string, number>;
  tools: number;
  toolVersions: number;
  unclassified: number;
  byCategory: Record<string, number>;
  byRisk: Record<string, number>;
  probeOutcomes: Record<string, number>;
} {
  const db = orm(sqlite);
  const n = count();
  // One pass over the current tools, on the copies of their current classification's category and risk (a tool
  // with no classification has neither): the join on classifications cost seconds at 500,000 tools.
  const cells = db
    .select({ category: tools.category, risk: tools.risk, n })
    .from(tools)
    .where(isNull(tools.removedAt))
    .groupBy(tools.category, tools.risk)
    .orderBy(asc(tools.category), asc(tools.risk))
    .all();
  let toolCount = 0;
  let unclassified = 0;
  const byCategory: Record<string, number> = {};
  const byRisk: Record<string, number> = {};
  for (const c of cells) {
    toolCount += c.n;
    if (c.category === null) unclassified += c.n;
    else byCategory[c.category] = (byCategory[c.category] ?? 0) + c.n;
    if (c.risk !== null) byRisk[c.risk] = (byRisk[c.risk] ?? 0) + c.n;
  }
  const sorted = (o: Record<string, number>) =>
    Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const groups = (rows: { k: string | null; n: number }[]) => Object.fromEntries(rows.map((r) => [r.k ?? "none", r.n]));
  const live = ne(servers.status, "removed");
  return {
    servers: db.select({ n }).from(servers).where(live).get()?.n ?? 0,
    serversBySource: groups(
      db
        .select({ k: sources.sourceId, n: countDistinct(sources.serverId) })
        .from(sources)
        .where(ne(sources.status, "removed"))
        .groupBy(sources.sourceId)
        .orderBy(asc(sources.sourceId))
        .all(),
    ),
    tools: toolCount,
    toolVersions: db.select({ n }).from(toolVersionsTable).get()?.n ?? 0,
    unclassified,
    byCategory: sorted(byCategory),
    byRisk: sorted(byRisk),
    probeOutcomes: groups(
      db
        .select({ k: probes.outcome, n })
        .from(servers)
        .innerJoin(probes, eq(probes.id, servers.lastProbeId))
        .where(live)
        .groupBy(probes.outcome)
        .orderBy(asc(probes.outcome))
        .all(),
    ),
  };
}
