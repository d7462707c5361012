import type { ChangeDetails, ChangeKind, Severity } from "./diff.js";

/** One recorded change of one tool, as the API, CLI, feeds and webhooks show it. */
export interface ChangeEvent {
  id: number;
  serverId: number;
  server: string;
  serverSlug: string;
  probeId: number | null;
  at: string;
  toolName: string;
  kind: ChangeKind;
  severity: Severity;
  reason: string;
  fromHash: string | null;
  toHash: string | null;
  details: ChangeDetails;
}

/** Columns of a change joined with its server (alias c for changes, s for servers). */
export const CHANGE_COLUMNS = `c.id, c.server_id, s.name AS server, s.slug AS server_slug, c.probe_id, c.at, c.tool_name, c.kind,
  c.severity, c.reason, c.from_hash, c.to_hash, c.details`;

/** Maps a row selected with CHANGE_COLUMNS. */
export function toChangeEvent(r: Record<string, unknown>): ChangeEvent {
  return {
    id: r.id as number,
    serverId: r.server_id as number,
    server: r.server as string,
    serverSlug: r.server_slug as string,
    probeId: (r.probe_id as number) ?? null,
    at: r.at as string,
    toolName: r.tool_name as string,
    kind: r.kind as ChangeKind,
    severity: r.severity as Severity,
    reason: r.reason as string,
    fromHash: (r.from_hash as string) ?? null,
    toHash: (r.to_hash as string) ?? null,
    details: JSON.parse(r.details as string) as ChangeDetails,
  };
}
