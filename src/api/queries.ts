import type { RawTool } from "../core/types.js";
import { renderToolDiff } from "../history/diff.js";
import type { ChangeEvent } from "../history/events.js";
import { whyNotListed } from "../policy/index.js";
import {
  changeListRows,
  currentTools,
  hasChangesTable,
  latestProbe,
  latestProbeBrief,
  lookupServer,
  QueryBudgetExceeded,
  type ServerListRow,
  serverListRows,
  sourcesOf,
  type TierCursor,
  TOOL_SORT_KEY_SIZE,
  type ToolListRow,
  type ToolSort,
  toolByRef,
  toolChangeRows,
  toolListRows,
  toolOutlines,
  versionRows,
  withQueryBudget,
} from "../store/api.js";
import type { Sqlite } from "../store/db.js";
import type { ServerRow, ToolRow } from "../store/queries.js";
import { describeServers, resolveServer } from "../store/resolve.js";
import { type CursorKey, decodeCursor, encodeCursor } from "./cursor.js";

export { currentTools };

import { ApiError } from "./errors.js";
import { ftsQuery } from "./fts.js";
import type { ServerListQuery, ToolListQuery } from "./params.js";

/** One page of a list: items in a stable order and the cursor of the next page (null on the last). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Approximate tokens a model spends on a JSON value: characters / 4, rounded up. */
export function tokenCost(value: unknown): number {
  return Math.ceil(JSON.stringify(value).length / 4);
}

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
  updatedAt: string | null;
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

function toServerSummary(s: ServerListRow): ServerSummary {
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
    probe: s.probeOutcome ? { outcome: s.probeOutcome, at: s.probeAt as string } : null,
    toolCount: s.toolCount,
    updatedAt: s.updatedAt,
  };
}

/** The position a relevance cursor names: tier 0 or 1 and a row id. */
function tierCursor(cursor: string | undefined): TierCursor | null {
  if (!cursor) return null;
  const [tier, afterId] = decodeCursor(cursor, "relevance", 2).map(Number) as [number, number];
  if (!(tier === 0 || tier === 1) || !Number.isSafeInteger(afterId)) {
    throw new ApiError("bad_input", "cursor: not a cursor this API issued", "cursor");
  }
  return { tier, afterId };
}

/**
 * Runs a list query within its time budget: past it, a 503 that says so (the catalog is fine, the query is too
 * broad for now) with Retry-After, instead of a request that holds the only thread for seconds.
 */
function bounded<T>(sqlite: Sqlite, budgetMs: number | undefined, fn: () => T): T {
  if (!budgetMs) return fn();
  try {
    return withQueryBudget(sqlite, budgetMs, fn);
  } catch (err) {
    if (!(err instanceof QueryBudgetExceeded)) throw err;
    throw new ApiError(
      "unsupported",
      `query stopped after its ${budgetMs} ms budget: narrow it (longer words, fewer prefix terms, a filter)`,
      undefined,
      { status: 503, apiCode: "query_timeout", headers: { "Retry-After": "5" } },
    );
  }
}

/** Servers matching the filters, one page at a time, in a stable order (name, or search relevance tiers). */
export function listServerPage(sqlite: Sqlite, q: ServerListQuery, budgetMs?: number): Page<ServerSummary> {
  return bounded(sqlite, budgetMs, () => serverPage(sqlite, q));
}

function serverPage(sqlite: Sqlite, q: ServerListQuery): Page<ServerSummary> {
  // An empty or blank q is no filter, as if it were not given.
  const match = ftsQuery(q.q);
  const sort = q.sort ?? (match !== undefined ? "relevance" : "name");
  if (match === null) return { items: [], nextCursor: null };
  if (sort === "relevance" && match === undefined)
    throw new ApiError("bad_input", "sort: `relevance` needs a q", "sort");
  const filters = {
    source: q.source,
    transport: q.transport,
    runtime: q.runtime,
    outcome: q.outcome,
    category: q.category,
    risk: q.risk,
    updatedSince: q.updated_since,
  };
  if (sort === "relevance" && match) {
    const rows = serverListRows(sqlite, filters, match, { by: "relevance", after: tierCursor(q.cursor) }, q.limit);
    return page(rows, q.limit, sort, (r) => [r.tier, r.id], toServerSummary);
  }
  const after = q.cursor ? (decodeCursor(q.cursor, sort, 2) as [string, number]) : null;
  const rows = serverListRows(sqlite, filters, match, { by: "name", after }, q.limit);
  return page(rows, q.limit, sort, (r) => [r.name, r.id], toServerSummary);
}

function page<R, T>(rows: R[], limit: number, sort: string, keyOf: (r: R) => CursorKey, map: (r: R) => T): Page<T> {
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

function toToolSummary(r: ToolListRow): ToolSummary {
  return {
    server: { id: r.serverId, slug: r.serverSlug, name: r.serverName },
    name: r.name,
    slug: r.slug,
    title: r.title,
    description: r.description,
    annotations: r.annotations,
    category: r.category,
    risk: r.risk,
    access: r.access,
    flags: r.flags,
  };
}

/** How an answer names a server it suggests: enough to ask again by slug. */
export interface ServerBrief {
  id: number;
  slug: string;
  name: string;
}
const brief = (s: ServerRow): ServerBrief => ({ id: s.id, slug: s.slug, name: s.name });

/**
 * Finds the server a user means from what they have at hand (see resolveServer: slug, registry name, package with or
 * without version, repository, a registry's key, a unique short name; case-insensitive), or an answer saying why not:
 * `suggestions` for a miss, `candidates` when the name fits several servers. The exact slug or name is looked up
 * first over a cached statement, so the common case costs what it did.
 */
export function findServer(
  sqlite: Sqlite,
  ref: string,
): { server: ServerRow } | { server: null; message: string; suggestions: ServerBrief[]; candidates?: ServerBrief[] } {
  const exact = lookupServer(sqlite, ref);
  if (exact) return { server: exact };
  const r = resolveServer(sqlite, ref);
  if (r.kind === "found") return { server: r.server };
  if (r.kind === "ambiguous") {
    return {
      server: null,
      message: `server ${JSON.stringify(ref)} is ambiguous (${r.matchedBy}): it fits ${describeServers(r.candidates)}; ask by slug`,
      suggestions: [],
      candidates: r.candidates.map(brief),
    };
  }
  const hint = r.suggestions.length ? `; did you mean ${describeServers(r.suggestions)}?` : "";
  return {
    server: null,
    message: `server not found: ${JSON.stringify(ref)}${hint}`,
    suggestions: r.suggestions.map(brief),
  };
}

/** The server a reference names, or a 404 that says why, with suggestions (or the candidates of an ambiguous name). */
export function requireServer(sqlite: Sqlite, ref: string, parameter = "server"): ServerRow {
  const f = findServer(sqlite, ref);
  if (f.server) return f.server;
  throw new ApiError("not_found", f.message, parameter, {
    extra: { suggestions: f.suggestions, ...(f.candidates ? { candidates: f.candidates } : {}) },
  });
}

/** Current tools matching the filters, one page at a time, in a stable order. */
export function listToolPage(sqlite: Sqlite, q: ToolListQuery, budgetMs?: number): Page<ToolSummary> {
  return bounded(sqlite, budgetMs, () => toolPage(sqlite, q));
}

function toolPage(sqlite: Sqlite, q: ToolListQuery): Page<ToolSummary> {
  const match = ftsQuery(q.q);
  const sort = q.sort ?? (match !== undefined ? "relevance" : "server");
  if (match === null) return { items: [], nextCursor: null };
  if (sort === "relevance" && match === undefined)
    throw new ApiError("bad_input", "sort: `relevance` needs a q", "sort");
  const filters = {
    serverId: q.server ? requireServer(sqlite, q.server).id : undefined,
    category: q.category,
    risk: q.risk,
    annotation: q.annotation,
    flag: q.flag,
  };
  if (sort === "relevance" && match) {
    const rows = toolListRows(sqlite, filters, match, { by: "relevance", after: tierCursor(q.cursor) }, q.limit);
    return page(rows, q.limit, sort, (r) => [r.tier, r.id], toToolSummary);
  }
  const by = sort as ToolSort;
  const after = q.cursor ? decodeCursor(q.cursor, sort, TOOL_SORT_KEY_SIZE[by]) : null;
  const rows = toolListRows(sqlite, filters, match, { by, after }, q.limit);
  return page(rows, q.limit, sort, (r) => [...r.key, r.id], toToolSummary);
}

/** Everything the API says about one server. */
export function serverDetail(sqlite: Sqlite, ref: string) {
  const s = requireServer(sqlite, ref);
  // Only what the answer shows: the stored raw JSON is measured, never parsed (servers can have hundreds of tools).
  const tools = toolOutlines(sqlite, s.id);
  const probe = latestProbeBrief(sqlite, s.id);
  const tally = (pick: (t: (typeof tools)[number]) => string | null): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const t of tools) {
      const k = pick(t) ?? "unclassified";
      out[k] = (out[k] ?? 0) + 1;
    }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  };
  // JSON of the array of definitions: their lengths, the commas between them and the brackets.
  const arrayChars = tools.reduce((n, t) => n + t.rawLen, 0) + Math.max(0, tools.length - 1) + 2;
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
    sources: sourcesOf(sqlite, s.id),
    tools: tools.map((t) => ({
      name: t.name,
      slug: t.slug,
      title: t.title,
      category: t.category,
      risk: t.risk,
      flags: t.flags,
      tokenCost: Math.ceil(t.rawLen / 4),
    })),
  };
}

/**
 * Why a server's tools are not on record as listed: never probed, or its last probe did not end ok (null when it
 * did). The policy engine's wording ({@link whyNotListed}), the same as the CLI's deny-all policy.
 */
export function unlistedReason(sqlite: Sqlite, serverId: number): string | null {
  return whyNotListed(latestProbe(sqlite, serverId));
}

/** What a server's policy is decided from: its current tools, and (when it has none) why they are not listed. */
export function policyInputs(sqlite: Sqlite, server: ServerRow): { tools: ToolRow[]; unlisted: string | null } {
  const tools = currentTools(sqlite, server.id);
  return { tools, unlisted: tools.length === 0 ? unlistedReason(sqlite, server.id) : null };
}

/** One tool of a server by name or slug (current or removed), or a 404 naming what was missing. */
export function findTool(sqlite: Sqlite, server: ServerRow, ref: string): ToolRow {
  const t = toolByRef(sqlite, server.id, ref);
  if (!t) throw new ApiError("not_found", `tool not found: ${JSON.stringify(ref)} on server ${server.name}`, "tool");
  return t;
}

/** Everything the API says about one tool: its definition, classification with evidence, and history. */
export function toolDetail(sqlite: Sqlite, serverRef: string, toolRef: string) {
  const s = requireServer(sqlite, serverRef);
  const t = findTool(sqlite, s, toolRef);
  // Every version with its diff from the one before: definitions only, over cached statements (the stored
  // classifications of old versions are not part of this answer, so they are not read).
  const versions = versionRows(sqlite, s.id, t.name);
  let prev: RawTool | null = null;
  const history = versions.map((v) => {
    // The current version's definition is the tool's own, already parsed: the largest blob is parsed once.
    const definition = v.hash === t.hash ? (t.raw as RawTool) : (JSON.parse(v.raw) as RawTool);
    const diff = prev ? renderToolDiff(prev, definition) : [];
    prev = definition;
    return { hash: v.hash, firstSeen: v.firstSeen, lastSeen: v.lastSeen, current: v.hash === t.hash, definition, diff };
  });
  // An older catalog opened read-only may have no change events table.
  const changes = hasChangesTable(sqlite) ? toolChangeRows<ChangeEvent>(sqlite, s.id, t.name).map(changeItem) : [];
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
    // The stored text of the current version is JSON.stringify of the definition: its length, not a re-serialisation.
    tokenCost: (() => {
      const cur = versions.find((v) => v.hash === t.hash);
      return cur ? Math.ceil(cur.raw.length / 4) : tokenCost(t.raw);
    })(),
    classification: t.classification,
    history,
    changes,
  };
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
  sqlite: Sqlite,
  q: { limit: number; cursor?: string | undefined; server?: string | undefined; severity?: string | undefined },
): Page<ChangeItem> {
  if (!hasChangesTable(sqlite)) return { items: [], nextCursor: null };
  const serverId = q.server ? requireServer(sqlite, q.server).id : undefined;
  // Newest first: the key is the negated id, so "after the cursor" stays a greater-than like every other list.
  const beforeId = q.cursor ? -Number(decodeCursor(q.cursor, "changes", 1)[0]) : undefined;
  const rows = changeListRows(sqlite, { serverId, severity: q.severity, beforeId }, q.limit);
  return page(
    rows,
    q.limit,
    "changes",
    (r) => [-r.id],
    (r) => ({
      id: r.id,
      server: { id: r.serverId, slug: r.serverSlug, name: r.serverName },
      at: r.at,
      tool: r.toolName,
      kind: r.kind,
      severity: r.severity,
      reason: r.reason,
      fromHash: r.fromHash,
      toHash: r.toHash,
      details: r.details,
    }),
  );
}
