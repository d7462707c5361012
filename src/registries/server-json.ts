import { z } from "zod";
import { errorRaw, finaliseEntry } from "./sanitise.js";
import type { EntryError, NormalisedEntry } from "./types.js";

const OFFICIAL_META = "io.modelcontextprotocol.registry/official";

/** The registry's own metadata on one listed version. */
const OfficialMetaSchema = z
  .object({
    status: z.enum(["active", "deprecated", "deleted"]).optional(),
    publishedAt: z.string().optional(),
    updatedAt: z.string().optional(),
    isLatest: z.boolean().optional(),
  })
  .passthrough();

/** A page of the live API: {servers:[{server,_meta}], metadata:{nextCursor,count}}. */
export const OfficialPageSchema = z
  .object({
    servers: z.array(z.unknown()),
    metadata: z
      .object({ nextCursor: z.string().nullish(), next_cursor: z.string().nullish(), count: z.number().optional() })
      .passthrough()
      .optional(),
  })
  .passthrough();

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function camelKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelKeys);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) out[camel(k)] = camelKeys(val);
  return out;
}

/** True for the 2025-05 snake_case server.json (version_detail, registry_name, ...). */
function isSnakeCase(s: Record<string, unknown>): boolean {
  if ("version_detail" in s) return true;
  const pkgs = Array.isArray(s.packages) ? s.packages : [];
  return pkgs.some((p) => isObject(p) && ("registry_name" in p || "environment_variables" in p));
}

/** Rewrites the 2025-05 snake_case format into the current camelCase server.json. */
function fromSnakeCase(s: Record<string, unknown>): { server: Record<string, unknown>; isLatest?: boolean } {
  const c = camelKeys(s) as Record<string, unknown>;
  const vd = isObject(c.versionDetail) ? c.versionDetail : {};
  delete c.versionDetail;
  if (typeof vd.version === "string") c.version = vd.version;
  if (Array.isArray(c.packages)) {
    c.packages = c.packages.flatMap((p) => {
      if (!isObject(p)) return [p];
      const { registryName, name, ...rest } = p;
      let type = typeof registryName === "string" ? registryName : rest.registryType;
      if (type === "docker") type = "oci";
      // "unknown" packages name a repository, not something installable: the repository field already says it.
      if (type === "unknown" || type === undefined) return [];
      return [{ ...rest, registryType: type, identifier: rest.identifier ?? name }];
    });
  }
  if (Array.isArray(c.remotes)) {
    c.remotes = c.remotes.map((r) => {
      if (!isObject(r)) return r;
      const { transportType, ...rest } = r;
      return { ...rest, type: rest.type ?? transportType };
    });
  }
  return { server: c, isLatest: typeof vd.isLatest === "boolean" ? vd.isLatest : undefined };
}

/** Result of normalising one item of an official-format listing. */
export interface OfficialItem {
  entry?: NormalisedEntry;
  errors: EntryError[];
  /** A non-latest version: noted, not stored as the server. */
  older?: boolean;
}

/**
 * Normalises one item of an official-format listing: a bare server.json (current or 2025-05 snake_case) or the API
 * wrapper {server, _meta}. The source key is the server name: versions of one server are one catalog entry.
 */
export function normaliseOfficialItem(item: unknown, label: string): OfficialItem {
  if (!isObject(item)) return { errors: [{ error: `${label}: not an object`, raw: errorRaw(item), skipped: true }] };
  let server: Record<string, unknown>;
  let metaSource: Record<string, unknown> | undefined;
  if (isObject(item.server)) {
    server = item.server;
    metaSource = isObject(item._meta) ? item._meta : isObject(server._meta) ? server._meta : undefined;
  } else if ("server" in item) {
    return { errors: [{ error: `${label}: "server" is not an object`, raw: errorRaw(item), skipped: true }] };
  } else {
    server = item;
    metaSource = isObject(item._meta) ? item._meta : undefined;
  }
  let isLatest: boolean | undefined;
  if (isSnakeCase(server)) {
    const s = fromSnakeCase(server);
    server = s.server;
    isLatest = s.isLatest;
  }
  const metaParsed = OfficialMetaSchema.safeParse(metaSource?.[OFFICIAL_META] ?? {});
  const meta = metaParsed.success ? metaParsed.data : {};
  if (meta.isLatest !== undefined) isLatest = meta.isLatest;
  if (isLatest === false) return { errors: [], older: true };
  const { _meta: _ignored, $schema: _schema, ...candidate } = server;
  const r = finaliseEntry(
    candidate,
    {
      sourceKey: typeof server.name === "string" ? server.name.trim() : "",
      raw: item,
      status: meta.status,
      upstreamUpdatedAt: meta.updatedAt ?? meta.publishedAt,
    },
    label,
  );
  if (r.entry) r.entry.sourceKey = r.entry.entry.name;
  return r;
}

/** Normalises a list of official-format items, counting non-latest versions. */
export function normaliseOfficialList(
  items: readonly unknown[],
  where: string,
): { entries: NormalisedEntry[]; errors: EntryError[]; olderVersions: number } {
  const entries: NormalisedEntry[] = [];
  const errors: EntryError[] = [];
  let olderVersions = 0;
  items.forEach((item, i) => {
    const name = isObject(item) ? (isObject(item.server) ? item.server.name : item.name) : undefined;
    const label = `${where} entry ${i}${typeof name === "string" ? ` (${JSON.stringify(name.slice(0, 80))})` : ""}`;
    const r = normaliseOfficialItem(item, label);
    if (r.older) olderVersions++;
    if (r.entry) entries.push(r.entry);
    errors.push(...r.errors);
  });
  return { entries, errors, olderVersions };
}
