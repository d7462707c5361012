import type { RawTool } from "../core/types.js";
import { renderToolDiff } from "../history/diff.js";
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
  serverBriefByRef,
  serverListRows,
  serverRecordByRef,
  sourcesOf,
  type TierCursor,
  TOOL_SORT_KEY_SIZE,
  type ToolListRow,
  type ToolSort,
  toolByRef,
  toolChangeRecords,
  toolListRows,
  toolOutlines,
  toolRecordByRef,
  versionRows,
  withQueryBudget,
} from "../store/api.js";
import type { Sqlite } from "../store/db.js";
import { type ServerRow, type ToolRow, toServerRow } from "../store/queries.js";
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
    annotations: r.annotationsText === null ? null : (JSON.parse(r.annotationsText) as Record<string, unknown>),
    category: r.category,
    risk: r.risk,
    access: r.access,
    flags: r.flagsText === null ? [] : (JSON.parse(r.flagsText) as string[]),
  };
}

/*
 * The hot REST answers (tool detail, server detail, tool pages) are written as JSON text directly: the JSON columns
 * the catalog stores (definitions, schemas, annotations, signals, flags, details, packages) were written by
 * JSON.stringify, so they are spliced in as stored instead of parsed and serialised again — the same bytes
 * JSON.stringify of the parsed objects gives (test/integration/api-answers-text.test.ts checks it answer for answer).
 * `j` serialises the scalar fields; `stored` splices a stored JSON column, with the value the object form used when
 * the column is NULL.
 */
const j = JSON.stringify as (v: unknown) => string;
const stored = (text: unknown, whenNull: string): string => (typeof text === "string" ? text : whenNull);

/** A ToolSummary as JSON text (the same bytes as JSON.stringify(toToolSummary(r))). */
function toolSummaryJson(r: ToolListRow): string {
  return `{"server":{"id":${j(r.serverId)},"slug":${j(r.serverSlug)},"name":${j(r.serverName)}},"name":${j(r.name)},"slug":${j(r.slug)},"title":${j(r.title)},"description":${j(r.description)},"annotations":${stored(r.annotationsText, "null")},"category":${j(r.category)},"risk":${j(r.risk)},"access":${j(r.access)},"flags":${stored(r.flagsText, "[]")}}`;
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
  const p = bounded(sqlite, budgetMs, () => toolPageRows(sqlite, q));
  return { items: p.rows.map(toToolSummary), nextCursor: p.nextCursor };
}

/** listToolPage as JSON text (the REST answer): stored annotations and flags spliced in, not parsed. */
export function listToolPageJson(sqlite: Sqlite, q: ToolListQuery, budgetMs?: number): string {
  const p = bounded(sqlite, budgetMs, () => toolPageRows(sqlite, q));
  return `{"items":[${p.rows.map(toolSummaryJson).join(",")}],"nextCursor":${j(p.nextCursor)}}`;
}

function toolPageRows(sqlite: Sqlite, q: ToolListQuery): { rows: ToolListRow[]; nextCursor: string | null } {
  const match = ftsQuery(q.q);
  const sort = q.sort ?? (match !== undefined ? "relevance" : "server");
  if (match === null) return { rows: [], nextCursor: null };
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
    const p = page(
      rows,
      q.limit,
      sort,
      (r) => [r.tier, r.id],
      (r) => r,
    );
    return { rows: p.items, nextCursor: p.nextCursor };
  }
  const by = sort as ToolSort;
  const after = q.cursor ? decodeCursor(q.cursor, sort, TOOL_SORT_KEY_SIZE[by]) : null;
  const rows = toolListRows(sqlite, filters, match, { by, after }, q.limit);
  const p = page(
    rows,
    q.limit,
    sort,
    (r) => [...r.key, r.id],
    (r) => r,
  );
  return { rows: p.items, nextCursor: p.nextCursor };
}

/** Everything the API says about one server, as an object (MCP's get_server): the REST answer, parsed. */
export function serverDetail(sqlite: Sqlite, ref: string): Record<string, unknown> {
  return JSON.parse(serverDetailJson(sqlite, ref)) as Record<string, unknown>;
}

/** Everything the API says about one server, as the JSON text REST sends. */
export function serverDetailJson(sqlite: Sqlite, ref: string): string {
  // The exact slug or name over a cached statement, with the stored packages/remotes text; else the wider lookup.
  const rec = serverRecordByRef(sqlite, ref);
  const s = rec ? toServerRow(rec) : requireServer(sqlite, ref);
  const packagesText = rec ? stored(rec.packages, "[]") : j(s.packages);
  const remotesText = rec ? stored(rec.remotes, "[]") : j(s.remotes);
  // Only what the answer shows: the stored raw JSON is measured, never parsed (servers can have hundreds of tools).
  const tools = toolOutlines(sqlite, s.id);
  const probe = latestProbeBrief(sqlite, s.id);
  const tally = (pick: (t: (typeof tools)[number]) => string | null): string => {
    const out: Record<string, number> = {};
    for (const t of tools) {
      const k = pick(t) ?? "unclassified";
      out[k] = (out[k] ?? 0) + 1;
    }
    return j(Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  };
  // JSON of the array of definitions: their lengths, the commas between them and the brackets.
  let arrayChars = Math.max(0, tools.length - 1) + 2;
  let toolsJson = "";
  for (const t of tools) {
    arrayChars += t.rawLen;
    toolsJson += `${toolsJson ? "," : ""}{"name":${j(t.name)},"slug":${j(t.slug)},"title":${j(t.title)},"category":${j(t.category)},"risk":${j(t.risk)},"flags":${stored(t.flagsText, "[]")},"tokenCost":${Math.ceil(t.rawLen / 4)}}`;
  }
  const probeJson = probe
    ? `{"outcome":${j(probe.outcome)},"startedAt":${j(probe.startedAt)},"durationMs":${j(probe.durationMs)},"transport":${j(probe.transport)},"error":${j(probe.error)},"protocolVersion":${j(probe.protocolVersion)},"serverInfo":${stored(probe.serverInfoText, "null")},"toolCount":${j(probe.toolCount)},"warnings":${stored(probe.warningsText, "[]")}}`
    : "null";
  return `{"id":${j(s.id)},"slug":${j(s.slug)},"name":${j(s.name)},"title":${j(s.title)},"description":${j(s.description)},"version":${j(s.version)},"repositoryUrl":${j(s.repositoryUrl)},"websiteUrl":${j(s.websiteUrl)},"packages":${packagesText},"remotes":${remotesText},"status":${j(s.status)},"firstSeen":${j(s.firstSeen)},"lastSeen":${j(s.lastSeen)},"lastProbeId":${j(s.lastProbeId)},"lastOkProbeAt":${j(s.lastOkProbeAt)},"updatedAt":${j(s.updatedAt)},"transports":${j(serverTransports(s))},"runtimes":${j(serverRuntimes(s))},"probe":${probeJson},"toolCount":${tools.length},"byCategory":${tally((t) => t.category)},"byRisk":${tally((t) => t.risk)},"tokenCost":${Math.ceil(arrayChars / 4)},"sources":${j(sourcesOf(sqlite, s.id))},"tools":[${toolsJson}]}`;
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

/** The classification columns of a TOOL_COLUMNS row as JSON text (null when the tool is not classified). */
function classificationJson(r: Record<string, unknown>): string {
  if (r.c_access == null) return "null";
  return `{"access":${j(r.c_access)},"destructive":${!!r.c_destructive},"financial":${!!r.c_financial},"category":${j(r.c_category)},"risk":${j(r.c_risk)},"confidence":${j(r.c_confidence)},"signals":${stored(r.c_signals, "[]")},"flags":${stored(r.c_flags, "[]")},"source":${j(r.c_source)},"classifierVersion":${j(r.c_version)}}`;
}

/**
 * Everything the API says about one tool — its definition, classification with evidence, history and change
 * events — as the JSON text REST sends. Stored definitions are parsed only to diff one version against the one
 * before (a tool with a single version parses nothing).
 */
export function toolDetailJson(sqlite: Sqlite, serverRef: string, toolRef: string): string {
  const s = serverBriefByRef(sqlite, serverRef) ?? requireServer(sqlite, serverRef);
  const t = toolRecordByRef(sqlite, s.id, toolRef);
  if (!t) throw new ApiError("not_found", `tool not found: ${JSON.stringify(toolRef)} on server ${s.name}`, "tool");
  const name = t.name as string;
  const hash = t.hash as string;
  const rawText = t.raw as string;
  const versions = versionRows(sqlite, s.id, name);
  let prev: RawTool | null = null;
  let history = "";
  let tokenText = rawText;
  for (const [i, v] of versions.entries()) {
    const current = v.hash === hash;
    // The current version's definition is the tool's own stored text.
    const defText = current ? rawText : v.raw;
    if (current) tokenText = v.raw;
    let diff = "[]";
    if (versions.length > 1) {
      const definition = JSON.parse(defText) as RawTool;
      if (i > 0 && prev) diff = j(renderToolDiff(prev, definition));
      prev = definition;
    }
    history += `${i ? "," : ""}{"hash":${j(v.hash)},"firstSeen":${j(v.firstSeen)},"lastSeen":${j(v.lastSeen)},"current":${current},"definition":${defText},"diff":${diff}}`;
  }
  // An older catalog opened read-only may have no change events table.
  let changes = "";
  if (hasChangesTable(sqlite)) {
    for (const c of toolChangeRecords(sqlite, s.id, name)) {
      changes += `${changes ? "," : ""}{"id":${j(c.id)},"server":{"id":${j(c.server_id)},"slug":${j(c.server_slug)},"name":${j(c.server)}},"at":${j(c.at)},"tool":${j(c.tool_name)},"kind":${j(c.kind)},"severity":${j(c.severity)},"reason":${j(c.reason)},"fromHash":${j(c.from_hash ?? null)},"toHash":${j(c.to_hash ?? null)},"details":${stored(c.details, "null")}}`;
    }
  }
  // tokenCost: the stored text of the current version is JSON.stringify of the definition, so its length is the
  // length of the serialised definition.
  return `{"server":{"id":${j(s.id)},"slug":${j(s.slug)},"name":${j(s.name)},"status":${j(s.status)}},"name":${j(name)},"slug":${j(t.slug)},"title":${j(t.title ?? null)},"description":${j(t.description ?? null)},"annotations":${stored(t.annotations, "null")},"inputSchema":${stored(t.input_schema, "null")},"outputSchema":${stored(t.output_schema, "null")},"definition":${rawText},"hash":${j(hash)},"firstSeen":${j(t.first_seen)},"lastSeen":${j(t.last_seen)},"removedAt":${j(t.removed_at ?? null)},"tokenCost":${Math.ceil(tokenText.length / 4)},"classification":${classificationJson(t)},"history":[${history}],"changes":[${changes}]}`;
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
