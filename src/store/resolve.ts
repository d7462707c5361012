import type Database from "better-sqlite3";
import { and, eq, inArray, like, ne, or, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { normaliseRepoUrl } from "./keys.js";
import type { ServerRow } from "./queries.js";
import * as schema from "./schema.js";

/**
 * Finding a catalog server from what a user has at hand: the catalog's slug or registry name, an npm/PyPI/OCI package
 * name (with or without a version, `npx -y`/`uvx` prefix or not), a repository URL (or `owner/repo`), the key another
 * registry lists it under, a numeric id, or a unique suffix of a name or package ("server-filesystem"), all
 * case-insensitive. One function for the CLI, the API and the MCP server, so all of them accept the same names.
 */
export type ServerResolution =
  | { kind: "found"; server: ServerRow; matchedBy: MatchKind }
  | { kind: "ambiguous"; matchedBy: MatchKind; candidates: ServerRow[] }
  | { kind: "not_found"; suggestions: ServerRow[] };

export type MatchKind = "id" | "slug" | "name" | "package" | "repository" | "registry-key" | "suffix";

/** How many candidates or suggestions a resolution returns at most. */
export const MAX_CANDIDATES = 8;

type Drizzle = ReturnType<typeof drizzle<typeof schema>>;
const handles = new WeakMap<Database.Database, Drizzle>();
function dz(sqlite: Database.Database): Drizzle {
  let d = handles.get(sqlite);
  if (!d) {
    d = drizzle(sqlite, { schema });
    handles.set(sqlite, d);
  }
  return d;
}

const { servers, serverKeys, sources } = schema;
const live = ne(servers.status, "removed");

function toRow(r: typeof servers.$inferSelect): ServerRow {
  const { rev: _rev, ...row } = r;
  return row;
}

/** A package reference without its version or launcher: `npx -y @a/b@1.2` → `@a/b`, `uvx pkg==1.0` → `pkg`. */
export function packageName(ref: string): string {
  let s = ref.trim();
  s = s.replace(/^(?:npx|pnpm\s+dlx|bunx|uvx|pipx\s+run|docker\s+run)\s+/i, "");
  s = s.replace(/^(?:-[-\w]*\s+)+/, "");
  s = s.replace(/^(npm|pypi|oci|nuget):/i, "");
  // npm: a version after the name's own "@" (a scope starts with "@").
  const at = s.indexOf("@", 1);
  if (at > 0) s = s.slice(0, at);
  // PyPI: pkg==1.0, pkg>=1, pkg~=1, pkg[extra]
  s = s.replace(/\[[^\]]*\]/, "").replace(/\s*(?:===?|>=|<=|~=|!=|>|<).*$/, "");
  // OCI: image:tag
  if (!s.startsWith("@")) s = s.replace(/:[^/:]+$/, "");
  return s.trim().toLowerCase();
}

/** PEP 503 name normalisation: runs of `-`, `_` and `.` are one `-`. */
const pep503 = (s: string) => s.toLowerCase().replace(/[-_.]+/g, "-");

function keyCandidates(ref: string): string[] {
  const pkg = packageName(ref);
  if (!pkg) return [];
  const out = new Set<string>([`npm:${pkg}`, `oci:${pkg}`, `nuget:${pkg}`, `pypi:${pkg}`]);
  const p = pep503(pkg);
  out.add(`pypi:${p}`);
  out.add(`pypi:${p.replace(/-/g, "_")}`);
  out.add(`pypi:${p.replace(/-/g, ".")}`);
  return [...out];
}

function repoKey(ref: string): string | undefined {
  const s = ref.trim();
  if (/^(?:https?:\/\/|git\+|git@|git:\/\/)/i.test(s) || /^(?:www\.)?(github|gitlab)\.com\//i.test(s))
    return normaliseRepoUrl(/^(?:www\.)?(github|gitlab)\.com\//i.test(s) ? `https://${s}` : s);
  return undefined;
}

function byIds(d: Drizzle, ids: number[]): ServerRow[] {
  if (ids.length === 0) return [];
  return d
    .select()
    .from(servers)
    .where(and(inArray(servers.id, ids), live))
    .orderBy(servers.name)
    .all()
    .map(toRow);
}

function settle(matchedBy: MatchKind, rows: ServerRow[]): ServerResolution | undefined {
  const unique = [...new Map(rows.map((r) => [r.id, r])).values()];
  if (unique.length === 1) return { kind: "found", server: unique[0]!, matchedBy };
  if (unique.length > 1) return { kind: "ambiguous", matchedBy, candidates: unique.slice(0, MAX_CANDIDATES) };
  return undefined;
}

/** Levenshtein distance, stopping early once it exceeds `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** The last segment of a name or package: `io.github.x/server-filesystem` → `server-filesystem`. */
const tail = (s: string) => s.toLowerCase().split(/[/:]/).pop() ?? s.toLowerCase();
/** The same without the usual words around a server's name: `mcp-server-git` → `git`. */
const core = (s: string) =>
  tail(s)
    .replace(/^(?:mcp[-_.]?server[-_.]?|server[-_.]?|mcp[-_.]?)/, "")
    .replace(/(?:[-_.]?mcp[-_.]?server|[-_.]?server|[-_.]?mcp)$/, "") || tail(s);

/** Servers whose names look like `ref`, closest first, for "did you mean …". */
function suggest(d: Drizzle, ref: string): ServerRow[] {
  const q = ref.trim().toLowerCase();
  const qTail = core(packageName(q) || q);
  if (!qTail) return [];
  const rows = d.select({ id: servers.id, name: servers.name, slug: servers.slug }).from(servers).where(live).all();
  const pkgKeys = d
    .select({ id: serverKeys.serverId, key: serverKeys.key })
    .from(serverKeys)
    .where(or(like(serverKeys.key, "npm:%"), like(serverKeys.key, "pypi:%")))
    .all();
  const names = new Map<number, string[]>();
  for (const r of rows) names.set(r.id, [r.name, r.slug]);
  for (const k of pkgKeys) names.get(k.id)?.push(k.key.slice(k.key.indexOf(":") + 1));
  const max = Math.max(1, Math.min(3, Math.floor(qTail.length / 3)));
  const scored: { id: number; score: number; name: string }[] = [];
  for (const [id, ns] of names) {
    let score = Number.POSITIVE_INFINITY;
    for (const n of ns) {
      const c = core(n);
      if (c === qTail) score = Math.min(score, 0);
      else if (c.includes(qTail) || (c.length >= 3 && qTail.includes(c))) score = Math.min(score, 1);
      else score = Math.min(score, 1 + distance(c, qTail, max));
    }
    if (score <= max + 1) scored.push({ id, score, name: ns[0]! });
  }
  scored.sort((a, b) => a.score - b.score || a.name.length - b.name.length || (a.name < b.name ? -1 : 1));
  const ids = scored.slice(0, MAX_CANDIDATES).map((s) => s.id);
  const byId = new Map(byIds(d, ids).map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id)).filter((r): r is ServerRow => !!r);
}

/** Finds the server a user means; see {@link ServerResolution}. Removed servers are never matched. */
export function resolveServer(sqlite: Database.Database, ref: string): ServerResolution {
  const d = dz(sqlite);
  const q = ref.trim();
  if (!q) return { kind: "not_found", suggestions: [] };
  if (/^\d+$/.test(q)) {
    const r = settle("id", byIds(d, [Number(q)]));
    if (r) return r;
  }
  // The catalog's own names, exactly, then without regard to case.
  const exact = d
    .select()
    .from(servers)
    .where(and(or(eq(servers.slug, q), eq(servers.name, q)), live))
    .all()
    .map(toRow);
  const fromExact = settle(exact.some((s) => s.slug === q) ? "slug" : "name", exact);
  if (fromExact) return fromExact;
  const nocase = d
    .select()
    .from(servers)
    .where(and(or(sql`${servers.slug} = ${q} COLLATE NOCASE`, sql`${servers.name} = ${q} COLLATE NOCASE`), live))
    .all()
    .map(toRow);
  const fromNocase = settle(nocase.some((s) => s.slug.toLowerCase() === q.toLowerCase()) ? "slug" : "name", nocase);
  if (fromNocase) return fromNocase;

  // A repository URL: the exact repository (or folder of a monorepo), else every server under it.
  const repo = repoKey(q);
  if (repo) {
    const ids = d
      .selectDistinct({ id: serverKeys.serverId })
      .from(serverKeys)
      .where(or(eq(serverKeys.key, `repo:${repo}`), like(serverKeys.key, `repo:${repo.replace(/[%_\\]/g, "\\$&")}/%`)))
      .all()
      .map((r) => r.id);
    const exactRepo = d
      .selectDistinct({ id: serverKeys.serverId })
      .from(serverKeys)
      .where(eq(serverKeys.key, `repo:${repo}`))
      .all()
      .map((r) => r.id);
    const r = settle("repository", byIds(d, exactRepo.length > 0 ? exactRepo : ids));
    if (r) return r;
    return { kind: "not_found", suggestions: suggest(d, repo) };
  }

  // A package name (npm, PyPI, OCI), or the registry name kept as an identity key.
  const keys = [...keyCandidates(q), `name:${q.toLowerCase()}`];
  const pkgIds = d
    .selectDistinct({ id: serverKeys.serverId })
    .from(serverKeys)
    .where(inArray(serverKeys.key, keys))
    .all()
    .map((r) => r.id);
  const fromPkg = settle("package", byIds(d, pkgIds));
  if (fromPkg) return fromPkg;

  // The key another registry lists the server under (Docker's catalog names, …).
  const srcIds = d
    .selectDistinct({ id: sources.serverId })
    .from(sources)
    .where(sql`${sources.sourceKey} = ${q} COLLATE NOCASE`)
    .all()
    .map((r) => r.id);
  const fromSource = settle("registry-key", byIds(d, srcIds));
  if (fromSource) return fromSource;

  // A unique suffix at a word boundary of a name, slug or package: "server-filesystem", "filesystem".
  const s = packageName(q) || q.toLowerCase();
  if (s.length >= 2) {
    const esc = s.replace(/[%_\\]/g, "\\$&");
    const pats = ["/", "-", ".", "_", "@"].map((sep) => `%${sep}${esc}`);
    const nameHit = (col: typeof servers.name | typeof servers.slug) =>
      or(...pats.map((p) => sql`lower(${col}) LIKE ${p} ESCAPE '\\'`));
    const suffixIds = d
      .select({ id: servers.id })
      .from(servers)
      .where(and(or(nameHit(servers.name), nameHit(servers.slug)), live))
      .all()
      .map((r) => r.id);
    const keyIds = d
      .selectDistinct({ id: serverKeys.serverId })
      .from(serverKeys)
      .where(
        or(
          ...["npm:", "pypi:", "oci:"].flatMap((t) => [
            sql`${serverKeys.key} LIKE ${`${t}%/${esc}`} ESCAPE '\\'`,
            sql`${serverKeys.key} LIKE ${`${t}%-${esc}`} ESCAPE '\\'`,
          ]),
        ),
      )
      .all()
      .map((r) => r.id);
    const fromSuffix = settle("suffix", byIds(d, [...new Set([...suffixIds, ...keyIds])]));
    if (fromSuffix) return fromSuffix;
  }
  return { kind: "not_found", suggestions: suggest(d, q) };
}

/** One line naming servers for a person: `a (slug a), b (slug b)`. */
export function describeServers(rows: ServerRow[]): string {
  return rows.map((r) => (r.slug === r.name ? r.name : `${r.name} (${r.slug})`)).join(", ");
}
