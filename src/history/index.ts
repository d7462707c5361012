import { createHash } from "node:crypto";
import { detectFlags } from "../classify/flags.js";
import { classifyHeuristic } from "../classify/heuristics.js";
import { AppError } from "../core/errors.js";
import type { Classification, RawTool } from "../core/types.js";
import { isPoisoningFlag } from "../core/vocabulary.js";
import { versionRows } from "../store/api.js";
import type { IngestResult, ToolDelta } from "../store/catalog.js";
import {
  changesNewestFirst,
  changesOfTool,
  classificationsByVersion,
  hasEarlierOkProbe,
  insertChanges,
  type NewChange,
  probeBrief,
  serverBrief,
  versionDefinition,
} from "../store/changes.js";
import type { Sqlite } from "../store/db.js";
import { findServer } from "../store/queries.js";
import {
  diffTool,
  type FlagDetector,
  renderToolDiff,
  SEVERITIES,
  type Severity,
  severityRank,
  summarize,
} from "./diff.js";
import type { ChangeEvent } from "./events.js";

export { renderAtom } from "./atom.js";
export {
  CHANGE_KINDS,
  type ChangeDetails,
  type ChangeKind,
  diffTool,
  renderToolDiff,
  SEVERITIES,
  type Severity,
  severityRank,
} from "./diff.js";
export type { ChangeEvent } from "./events.js";
export {
  deliverWebhooks,
  loadWebhookConfig,
  signBody,
  verifySignature,
  type WebhookConfig,
  WebhookConfigSchema,
} from "./webhooks.js";

/** The classifier's poisoning and shadowing flags on a piece of prose, as extra indicators. */
const classifierFlags: FlagDetector = (text) =>
  detectFlags({ name: "", description: text }, { access: "read", destructive: false }).filter(isPoisoningFlag);

/**
 * The two classifications to compare: stored ones of the same classifier version when both hashes have one
 * (newest first); otherwise the heuristic classifier on both definitions, so versions are never mixed.
 */
function classificationsFor(
  sqlite: Sqlite,
  serverName: string,
  delta: ToolDelta,
  from: RawTool | null,
  to: RawTool | null,
): { fromClass: Classification | null; toClass: Classification | null } {
  if (!from && to && delta.to) {
    // An added tool: its own classification (stored, else the heuristics) decides whether it is a rug pull.
    const stored = classificationsByVersion(sqlite, delta.to).values().next().value;
    return { fromClass: null, toClass: stored ?? classifyHeuristic(inputOf(serverName, to)) };
  }
  if (!from || !to || !delta.from || !delta.to) return { fromClass: null, toClass: null };
  const a = classificationsByVersion(sqlite, delta.from);
  const b = classificationsByVersion(sqlite, delta.to);
  for (const [version, cb] of b) {
    const ca = a.get(version);
    if (ca) return { fromClass: ca, toClass: cb };
  }
  return {
    fromClass: classifyHeuristic(inputOf(serverName, from)),
    toClass: classifyHeuristic(inputOf(serverName, to)),
  };
}

function inputOf(serverName: string, t: RawTool) {
  return {
    server: serverName,
    name: t.name,
    title: typeof t.title === "string" ? t.title : undefined,
    description: typeof t.description === "string" ? t.description : undefined,
    inputSchema: t.inputSchema,
    outputSchema: t.outputSchema,
    annotations: t.annotations ?? null,
  };
}

const dedupeKey = (serverId: number, probeId: number, d: ToolDelta) =>
  createHash("sha256")
    .update(JSON.stringify([serverId, probeId, d.name, d.from, d.to]))
    .digest("hex");

/**
 * Diffs each tool delta of an ingested probe against the previous definition and stores one change event per tool
 * with its severity and reason. The first successful listing of a server is its baseline and records nothing.
 * Idempotent: recording the same ingest again stores nothing and returns only events stored by this call.
 */
export function recordChanges(
  sqlite: Sqlite,
  serverId: number,
  ingest: IngestResult,
  opts: { now?: string } = {},
): ChangeEvent[] {
  const deltas = [...ingest.added, ...ingest.removed, ...ingest.changed];
  if (deltas.length === 0) return [];
  const server = serverBrief(sqlite, serverId);
  if (!server) throw new AppError("not_found", `no server with id ${serverId}`);
  const probe = probeBrief(sqlite, ingest.probeId, serverId);
  // A probe that failed cannot have removed anything: ingestProbe reports no deltas for it, and we trust only ok ones.
  if (probe && probe.outcome !== "ok") return [];
  if (!hasEarlierOkProbe(sqlite, serverId, ingest.probeId)) return [];
  const at = opts.now ?? probe?.startedAt ?? new Date().toISOString();
  const pending: { row: NewChange; event: Omit<ChangeEvent, "id"> }[] = [];
  for (const d of [...deltas].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    const from = versionDefinition(sqlite, serverId, d.name, d.from);
    const to = versionDefinition(sqlite, serverId, d.name, d.to);
    const details = diffTool(from, to, {
      ...classificationsFor(sqlite, server.name, d, from, to),
      detectFlags: classifierFlags,
    });
    const head = summarize(details);
    if (!head) continue;
    const common = {
      serverId,
      probeId: ingest.probeId,
      at,
      toolName: d.name,
      kind: head.kind,
      severity: head.severity,
      reason: head.reason,
      fromHash: d.from,
      toHash: d.to,
      details,
    };
    pending.push({
      row: { ...common, dedupeKey: dedupeKey(serverId, ingest.probeId, d) },
      event: { ...common, server: server.name, serverSlug: server.slug },
    });
  }
  // Stored in one transaction; an event already recorded (same dedupe key) is not returned again.
  const ids = insertChanges(
    sqlite,
    pending.map((p) => p.row),
  );
  return pending.flatMap((p, i) => (ids[i] == null ? [] : [{ id: ids[i], ...p.event }]));
}

export interface ListChangesOptions {
  /** ISO date/time, or a duration back from now: 90m, 24h, 7d. */
  since?: string;
  /** Server slug, name or id. */
  server?: string;
  /** Minimum severity. */
  severity?: Severity;
  /** Page size, 1..500 (default 50). */
  limit?: number;
  /** Opaque cursor from a previous page's nextCursor. */
  cursor?: string;
  /** Reference time for relative `since` (tests). */
  now?: string;
}

/** Parses a `since` value (ISO date or 90m/24h/7d/2w) into an ISO timestamp; bad input is one clear error. */
export function parseSince(since: string, now = new Date().toISOString()): string {
  const rel = /^(\d{1,6})\s*(m|h|d|w)$/i.exec(since.trim());
  if (rel) {
    const unit = { m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[rel[2]!.toLowerCase() as "m" | "h" | "d" | "w"];
    return new Date(Date.parse(now) - Number(rel[1]) * unit).toISOString();
  }
  const t = Date.parse(since);
  if (!/^\d{4}-\d{2}-\d{2}/.test(since.trim()) || Number.isNaN(t)) {
    throw new AppError(
      "bad_input",
      `--since must be an ISO date (2025-01-31) or a duration like 24h or 7d, not "${since.slice(0, 50)}"`,
    );
  }
  return new Date(t).toISOString();
}

const encodeCursor = (id: number) => Buffer.from(`c:${id}`).toString("base64url");
function decodeCursor(cursor: string): number {
  const m = /^c:(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw new AppError("bad_input", "invalid cursor");
  return Number(m[1]);
}

/**
 * Changes newest first, filtered by time, server and minimum severity. The cursor is the last id seen, so pages stay
 * stable while new changes arrive at the head.
 */
export function listChanges(
  sqlite: Sqlite,
  opts: ListChangesOptions = {},
): { items: ChangeEvent[]; nextCursor: string | null } {
  const f: { since?: string; serverId?: number; severities?: string[]; beforeId?: number } = {};
  if (opts.since) f.since = parseSince(opts.since, opts.now);
  if (opts.server) {
    const s = findServer(sqlite, opts.server);
    if (!s) throw new AppError("not_found", `no server "${opts.server.slice(0, 100)}" in the catalog`);
    f.serverId = s.id;
  }
  if (opts.severity) {
    if (!SEVERITIES.includes(opts.severity)) {
      throw new AppError("bad_input", `severity must be one of ${SEVERITIES.join(", ")}`);
    }
    f.severities = SEVERITIES.filter((s) => severityRank(s) >= severityRank(opts.severity!));
  }
  if (opts.cursor) f.beforeId = decodeCursor(opts.cursor);
  const limit = opts.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new AppError("bad_input", "limit must be an integer from 1 to 500");
  }
  const rows = changesNewestFirst<ChangeEvent>(sqlite, f, limit + 1);
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}

/** One stored definition of a tool with when it was seen and what changed from the previous one. */
export interface ToolVersion {
  hash: string;
  firstSeen: string;
  lastSeen: string;
  definition: RawTool;
  classification: Classification | null;
  /** Readable diff from the previous version (empty for the first). */
  diff: string[];
}

/** A tool's history: every definition by date with readable diffs, and the change events recorded for it. */
export function toolHistory(
  sqlite: Sqlite,
  serverId: number,
  toolName: string,
): { serverId: number; toolName: string; versions: ToolVersion[]; changes: ChangeEvent[] } {
  const rows = versionRows(sqlite, serverId, toolName);
  let prev: RawTool | null = null;
  const versions: ToolVersion[] = rows.map((r) => {
    const definition = JSON.parse(r.raw) as RawTool;
    const stored = classificationsByVersion(sqlite, r.hash);
    const v: ToolVersion = {
      hash: r.hash,
      firstSeen: r.firstSeen,
      lastSeen: r.lastSeen,
      definition,
      classification: stored.values().next().value ?? null,
      diff: prev ? renderToolDiff(prev, definition) : [],
    };
    prev = definition;
    return v;
  });
  const changes = changesOfTool<ChangeEvent>(sqlite, serverId, toolName);
  return { serverId, toolName, versions, changes };
}
