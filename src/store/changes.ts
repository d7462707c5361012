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
