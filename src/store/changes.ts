import { and, asc, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import type { Classification, RawTool } from "../core/types.js";
import { classificationOf } from "./classification-row.js";
import { orm, type Sqlite } from "./db.js";
import { changes, classifications, probes, servers, toolVersions } from "./schema.js";

/**
 * A recorded change of one tool with its server's name and slug, as stored. The kind, severity and details are
 * written by src/history (its diff decides them); readers that know those types narrow them with the type
 * parameters (history's ChangeEvent is `StoredChange<ChangeKind, Severity, ChangeDetails>`).
 */
export interface StoredChange<Kind extends string = string, Sev extends string = string, Details = unknown> {
  id: number;
  serverId: number;
  server: string;
  serverSlug: string;
  probeId: number | null;
  at: string;
  toolName: string;
  kind: Kind;
  severity: Sev;
  reason: string;
  fromHash: string | null;
  toHash: string | null;
  details: Details;
}

/** Columns of a change joined with its server (alias c for changes, s for servers). */
export const CHANGE_COLUMNS = `c.id, c.server_id, s.name AS server, s.slug AS server_slug, c.probe_id, c.at, c.tool_name, c.kind,
  c.severity, c.reason, c.from_hash, c.to_hash, c.details`;

/** Maps a row selected with CHANGE_COLUMNS. */
export function toStoredChange<C extends StoredChange = StoredChange>(r: Record<string, unknown>): C {
  return {
    id: r.id as number,
    serverId: r.server_id as number,
    server: r.server as string,
    serverSlug: r.server_slug as string,
    probeId: (r.probe_id as number) ?? null,
    at: r.at as string,
    toolName: r.tool_name as string,
    kind: r.kind as string,
    severity: r.severity as string,
    reason: r.reason as string,
    fromHash: (r.from_hash as string) ?? null,
    toHash: (r.to_hash as string) ?? null,
    details: JSON.parse(r.details as string),
  } as C;
}

export const changeSelect = {
  id: changes.id,
  serverId: changes.serverId,
  server: servers.name,
  serverSlug: servers.slug,
  probeId: changes.probeId,
  at: changes.at,
  toolName: changes.toolName,
  kind: changes.kind,
  severity: changes.severity,
  reason: changes.reason,
  fromHash: changes.fromHash,
  toHash: changes.toHash,
  details: changes.details,
};

/** A server's id, name and slug. */
export function serverBrief(sqlite: Sqlite, id: number): { id: number; name: string; slug: string } | undefined {
  return orm(sqlite)
    .select({ id: servers.id, name: servers.name, slug: servers.slug })
    .from(servers)
    .where(eq(servers.id, id))
    .get();
}

/** When a probe of this server started and how it ended. */
export function probeBrief(
  sqlite: Sqlite,
  probeId: number,
  serverId: number,
): { startedAt: string; outcome: string } | undefined {
  return orm(sqlite)
    .select({ startedAt: probes.startedAt, outcome: probes.outcome })
    .from(probes)
    .where(and(eq(probes.id, probeId), eq(probes.serverId, serverId)))
    .get();
}

/** Whether the server had a successful probe before this one. */
export function hasEarlierOkProbe(sqlite: Sqlite, serverId: number, probeId: number): boolean {
  return !!orm(sqlite)
    .select({ one: sql`1` })
    .from(probes)
    .where(and(eq(probes.serverId, serverId), lt(probes.id, probeId), eq(probes.outcome, "ok")))
    .limit(1)
    .get();
}

/** The stored definition of one tool version, or null. */
export function versionDefinition(sqlite: Sqlite, serverId: number, tool: string, hash: string | null): RawTool | null {
  if (!hash) return null;
  const r = orm(sqlite)
    .select({ raw: toolVersions.raw })
    .from(toolVersions)
    .where(and(eq(toolVersions.serverId, serverId), eq(toolVersions.toolName, tool), eq(toolVersions.hash, hash)))
    .get();
  return r ? (r.raw as RawTool) : null;
}

/** The stored classifications of a definition hash, newest per classifier version, newest version first. */
export function classificationsByVersion(sqlite: Sqlite, hash: string): Map<string, Classification> {
  const rows = orm(sqlite)
    .select()
    .from(classifications)
    .where(eq(classifications.hash, hash))
    .orderBy(desc(classifications.createdAt), desc(sql`rowid`))
    .all();
  const out = new Map<string, Classification>();
  for (const r of rows) {
    if (out.has(r.classifierVersion)) continue;
    out.set(r.classifierVersion, classificationOf(r));
  }
  return out;
}

/** A change event to store (its id and server names come from the catalog). */
export type NewChange = typeof changes.$inferInsert;

/**
 * Stores change events in one transaction; a row whose dedupe key is already stored is skipped. Returns each row's
 * new id, or null where it was a duplicate.
 */
export function insertChanges(sqlite: Sqlite, rows: NewChange[]): (number | null)[] {
  const db = orm(sqlite);
  return db.transaction((tx) =>
    rows.map((r) => {
      const got = tx
        .insert(changes)
        .values(r)
        .onConflictDoNothing({ target: changes.dedupeKey })
        .returning({ id: changes.id })
        .get();
      return got?.id ?? null;
    }),
  );
}

/** Change filters: at or after `since`, of one server, of these severities, older than `beforeId`. */
export interface ChangeFilters {
  since?: string | undefined;
  serverId?: number | undefined;
  severities?: string[] | undefined;
  beforeId?: number | undefined;
}

/** Up to `limit` change events, newest first. */
export function changesNewestFirst<C extends StoredChange = StoredChange>(
  sqlite: Sqlite,
  f: ChangeFilters,
  limit: number,
): C[] {
  const where = [
    f.since !== undefined ? gte(changes.at, f.since) : undefined,
    f.serverId !== undefined ? eq(changes.serverId, f.serverId) : undefined,
    f.severities !== undefined ? inArray(changes.severity, f.severities) : undefined,
    f.beforeId !== undefined ? lt(changes.id, f.beforeId) : undefined,
  ];
  return orm(sqlite)
    .select(changeSelect)
    .from(changes)
    .innerJoin(servers, eq(servers.id, changes.serverId))
    .where(and(...where))
    .orderBy(desc(changes.id))
    .limit(limit)
    .all() as C[];
}

/** The change events of one tool, oldest first. */
export function changesOfTool<C extends StoredChange = StoredChange>(
  sqlite: Sqlite,
  serverId: number,
  toolName: string,
): C[] {
  return orm(sqlite)
    .select(changeSelect)
    .from(changes)
    .innerJoin(servers, eq(servers.id, changes.serverId))
    .where(and(eq(changes.serverId, serverId), eq(changes.toolName, toolName)))
    .orderBy(asc(changes.id))
    .all() as C[];
}
