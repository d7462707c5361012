import type Database from "better-sqlite3";
import { and, asc, eq, isNull, lt, ne, notExists, sql } from "drizzle-orm";
import { contentHash } from "../core/hash.js";
import { wellFormedDeep } from "../core/text.js";
import type { Classification, ProbeResult, RawPrompt, RawResource, RawTool, ServerEntry } from "../core/types.js";
import { orm, transaction } from "./db.js";
import { canonicalKeys, slugify } from "./keys.js";
import { classifications, serverItems, servers, sources, tools } from "./schema.js";

/** Text fields are capped in the store: descriptions are hostile input. */
export const MAX_TEXT = 64 * 1024;

const cap = (s: unknown): string | null =>
  typeof s === "string" ? (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…[truncated]` : s) : null;
const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

export interface SourceEntryInput {
  sourceId: string;
  /** The entry's id within its source (e.g. name@version for the official registry). */
  sourceKey: string;
  entry: ServerEntry;
  raw: unknown;
  status?: "active" | "deprecated" | "deleted";
  upstreamUpdatedAt?: string;
  popularity?: number;
  /** Tools the source itself reports for the server (Smithery, Glama, Docker). */
  reportedTools?: RawTool[];
}

/**
 * Prepared statements of the source-merge path, cached per connection: a hot path, measured by
 * scripts/bench-registry-crawl.ts (25,000 servers: preparing per entry dominated the crawl). The rest of this file
 * reads and writes through drizzle's query builder, except ingestProbe (bench-distributed's writer ceiling).
 */
function mergeStatements(sqlite: Database.Database) {
  let st = MERGE_STATEMENTS.get(sqlite);
  if (!st) {
    st = {
      byKey: sqlite.prepare("SELECT DISTINCT server_id AS id FROM server_keys WHERE key = ?").pluck(),
      keysOf: sqlite.prepare("SELECT key FROM server_keys WHERE server_id = ?").pluck(),
      server: sqlite.prepare("SELECT * FROM servers WHERE id = ?"),
      slugTaken: sqlite.prepare("SELECT 1 FROM servers WHERE slug = ?"),
      nameOwner: sqlite.prepare("SELECT id FROM servers WHERE name = ?").pluck(),
      update: sqlite.prepare(
        `UPDATE servers SET name = ?, title = ?, description = ?, version = ?, repository_url = ?, website_url = ?,
         packages = ?, remotes = ?, last_seen = ?,
         status = CASE WHEN ? THEN ? ELSE (CASE WHEN status = 'removed' THEN 'active' ELSE status END) END
         WHERE id = ?`,
      ),
      insert: sqlite.prepare(
        `INSERT INTO servers (slug, name, title, description, version, repository_url, website_url, packages, remotes, status, first_seen, last_seen)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      addKey: sqlite.prepare("INSERT OR IGNORE INTO server_keys (key, server_id) VALUES (?, ?)"),
      source: sqlite.prepare(
        `INSERT INTO sources (source_id, source_key, server_id, raw, status, upstream_updated_at, popularity, first_seen, last_seen)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (source_id, source_key) DO UPDATE SET server_id = excluded.server_id, raw = excluded.raw,
           status = excluded.status, upstream_updated_at = excluded.upstream_updated_at,
           popularity = excluded.popularity, last_seen = excluded.last_seen`,
      ),
      clearReported: sqlite.prepare("DELETE FROM reported_tools WHERE source_id = ? AND server_id = ?"),
      addReported: sqlite.prepare(
        "INSERT OR REPLACE INTO reported_tools (source_id, server_id, name, description, raw) VALUES (?, ?, ?, ?, ?)",
      ),
    };
    MERGE_STATEMENTS.set(sqlite, st);
  }
  return st;
}
type MergeStatements = {
  [K in
    | "byKey"
    | "keysOf"
    | "server"
    | "slugTaken"
    | "nameOwner"
    | "update"
    | "insert"
    | "addKey"
    | "source"
    | "clearReported"
    | "addReported"]: Database.Statement;
};
const MERGE_STATEMENTS = new WeakMap<Database.Database, MergeStatements>();

/** Sources whose server names are the official reverse-DNS names. */
const NAMING_SOURCES = new Set(["official", "seed"]);

/** Finds the canonical server for an entry by its identity keys, creating it when new; attaches the source. */
export function upsertSourceEntry(
  sqlite: Database.Database,
  input: SourceEntryInput,
  now = new Date().toISOString(),
): { serverId: number; created: boolean } {
  const st = mergeStatements(sqlite);
  return sqlite.transaction(() => {
    const { strong, weak } = canonicalKeys(input.entry);
    const ids = new Set<number>();
    for (const k of strong) for (const id of st.byKey.all(k) as number[]) ids.add(id);
    if (ids.size === 0) {
      // A shared repository merges only when one side lacks package/remote identity: two entries that both name
      // their packages, and different ones, are different servers from one monorepo.
      const hasPkg = (keys: string[]) => keys.some((k) => !k.startsWith("name:") && !k.startsWith("repo:"));
      for (const k of weak) {
        const found = st.byKey.all(k) as number[];
        if (found.length !== 1 || found[0] === undefined) continue;
        if (hasPkg(strong) && hasPkg(st.keysOf.all(found[0]) as string[])) continue;
        ids.add(found[0]);
      }
    }
    const e = input.entry;
    let serverId: number;
    let created = false;
    const status = input.status ?? "active";
    if (ids.size === 0) {
      serverId = insertServer(st, e, status, now);
      created = true;
    } else {
      serverId = Math.min(...ids);
      const cur = st.server.get(serverId) as Record<string, unknown>;
      // The official reverse-DNS name and fields win once any naming source gives them; others fill gaps.
      const official = NAMING_SOURCES.has(input.sourceId);
      const owner = st.nameOwner.get(e.name) as number | undefined;
      const name = official && (owner === undefined || owner === serverId) ? e.name : cur.name;
      st.update.run(
        name,
        official ? (cap(e.title) ?? cur.title) : (cur.title ?? cap(e.title)),
        official ? (cap(e.description) ?? cur.description) : (cur.description ?? cap(e.description)),
        official ? (e.version ?? cur.version) : (cur.version ?? e.version ?? null),
        cur.repository_url ?? e.repository?.url ?? null,
        cur.website_url ?? e.websiteUrl ?? null,
        official || (cur.packages as string) === "[]" ? JSON.stringify(e.packages ?? []) : cur.packages,
        official || (cur.remotes as string) === "[]" ? JSON.stringify(e.remotes ?? []) : cur.remotes,
        now,
        official ? 1 : 0,
        status,
        serverId,
      );
    }
    for (const k of [...strong, ...weak]) st.addKey.run(k, serverId);
    st.source.run(
      input.sourceId,
      input.sourceKey,
      serverId,
      JSON.stringify(input.raw ?? null),
      status,
      input.upstreamUpdatedAt ?? null,
      input.popularity ?? null,
      now,
      now,
    );
    if (input.reportedTools) {
      st.clearReported.run(input.sourceId, serverId);
      for (const t of input.reportedTools) {
        if (typeof t?.name !== "string") continue;
        st.addReported.run(input.sourceId, serverId, t.name, cap(t.description), JSON.stringify(t));
      }
    }
    return { serverId, created };
  })();
}

function insertServer(st: MergeStatements, e: ServerEntry, status: string, now: string): number {
  const base = slugify(e.name);
  let slug = base;
  for (let i = 2; st.slugTaken.get(slug); i++) slug = `${base}-${i}`;
  let name = e.name;
  for (let i = 2; st.nameOwner.get(name) !== undefined; i++) name = `${e.name}~${i}`;
  const r = st.insert.run(
    slug,
    name,
    cap(e.title),
    cap(e.description),
    e.version ?? null,
    e.repository?.url ?? null,
    e.websiteUrl ?? null,
    JSON.stringify(e.packages ?? []),
    JSON.stringify(e.remotes ?? []),
    status,
    now,
    now,
  );
  return Number(r.lastInsertRowid);
}

/**
 * After a complete crawl of one source: entries it no longer lists are marked removed (never dropped), and servers
 * that no source lists any more are marked removed too.
 */
export function markUnseen(sqlite: Database.Database, sourceId: string, crawlStartedAt: string): number {
  const db = orm(sqlite);
  return transaction(sqlite, () => {
    const r = db
      .update(sources)
      .set({ status: "removed" })
      .where(and(eq(sources.sourceId, sourceId), lt(sources.lastSeen, crawlStartedAt), ne(sources.status, "removed")))
      .run();
    const listed = db
      .select({ one: sql`1` })
      .from(sources)
      .where(and(eq(sources.serverId, servers.id), ne(sources.status, "removed")));
    db.update(servers)
      .set({ status: "removed" })
      .where(and(ne(servers.status, "removed"), notExists(listed)))
      .run();
    return r.changes;
  });
}

/** One tool whose presence or definition moved in a probe; hashes name tool_versions rows. */
export interface ToolDelta {
  name: string;
  from: string | null;
  to: string | null;
}

/** Result of storing one probe: tools added, removed, or whose definition changed (hash from → to). */
export interface IngestResult {
  probeId: number;
  added: ToolDelta[];
  removed: ToolDelta[];
  changed: ToolDelta[];
  unchanged: number;
  newVersions: number;
}

/** The hash that identifies a tool definition: the raw object as received, canonicalised. */
export function toolHash(tool: RawTool): string {
  return contentHash(wellFormedDeep(tool));
}

/**
 * (Hot path: raw prepared statements, measured by scripts/bench-distributed.ts's writer ceiling — every probe of a
 * crawl passes here, in the single writer.)
 *
 * Stores a probe and, when it succeeded, the listing: current tools, a version row per new definition hash,
 * prompts and resources. One transaction: the catalog is never half-written. A failed probe keeps earlier tools.
 */
export function ingestProbe(
  sqlite: Database.Database,
  serverId: number,
  untrusted: ProbeResult,
  now = new Date().toISOString(),
): IngestResult {
  // Everything a server sent is normalised before it is stored (lone surrogates, NFC): see core/text.ts.
  const result = wellFormedDeep(untrusted);
  return sqlite.transaction(() => {
    const p = sqlite
      .prepare(
        `INSERT INTO probes (server_id, started_at, duration_ms, transport, launch, outcome, error, stderr_tail, timings,
          server_info, protocol_version, capabilities, instructions, placeholders, warnings, auth, tool_count)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        serverId,
        result.startedAt,
        Math.round(result.durationMs),
        result.transport,
        JSON.stringify(result.launch ?? {}),
        result.outcome,
        result.error ? cap(result.error) : null,
        result.stderrTail ? cap(result.stderrTail) : null,
        JSON.stringify(result.timings ?? {}),
        json(result.serverInfo),
        result.protocolVersion ?? null,
        json(result.capabilities),
        result.instructions ? cap(result.instructions) : null,
        JSON.stringify(result.placeholders ?? []),
        JSON.stringify(result.warnings ?? []),
        json(result.auth),
        result.outcome === "ok" ? result.tools.length : 0,
      );
    const probeId = Number(p.lastInsertRowid);
    sqlite.prepare("UPDATE servers SET last_probe_id = ? WHERE id = ?").run(probeId, serverId);
    const out: IngestResult = { probeId, added: [], removed: [], changed: [], unchanged: 0, newVersions: 0 };
    if (result.outcome !== "ok") return out;
    sqlite.prepare("UPDATE servers SET last_ok_probe_at = ? WHERE id = ?").run(result.startedAt, serverId);

    const existing = new Map<string, { id: number; hash: string; removed_at: string | null; slug: string }>();
    for (const r of sqlite
      .prepare("SELECT id, name, hash, removed_at, slug FROM tools WHERE server_id = ?")
      .all(serverId) as { id: number; name: string; hash: string; removed_at: string | null; slug: string }[]) {
      existing.set(r.name, r);
    }
    const usedSlugs = new Set([...existing.values()].map((r) => r.slug));
    const seen = new Set<string>();
    const insVersion = sqlite.prepare(
      `INSERT INTO tool_versions (server_id, tool_name, hash, raw, first_seen, last_seen, first_probe_id)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (server_id, tool_name, hash) DO UPDATE SET last_seen = excluded.last_seen`,
    );
    // category/risk come from the definition's newest classification, when it was classified before (e.g. elsewhere).
    const CURRENT = (col: string) =>
      `(SELECT c.${col} FROM classifications c WHERE c.hash = ? ORDER BY c.created_at DESC, c.rowid DESC LIMIT 1)`;
    const insTool = sqlite.prepare(
      `INSERT INTO tools (server_id, name, slug, title, description, input_schema, output_schema, annotations, raw, hash, first_seen, last_seen, category, risk)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${CURRENT("category")}, ${CURRENT("risk")})`,
    );
    const updTool = sqlite.prepare(
      `UPDATE tools SET title = ?, description = ?, input_schema = ?, output_schema = ?, annotations = ?, raw = ?, hash = ?,
        last_seen = ?, removed_at = NULL, category = ${CURRENT("category")}, risk = ${CURRENT("risk")} WHERE id = ?`,
    );
    const touchTool = sqlite.prepare("UPDATE tools SET last_seen = ?, removed_at = NULL WHERE id = ?");
    for (const t of result.tools) {
      if (typeof t?.name !== "string" || seen.has(t.name)) continue;
      seen.add(t.name);
      const hash = toolHash(t);
      const rawJson = JSON.stringify(t);
      const v = insVersion.run(serverId, t.name, hash, rawJson, now, now, probeId);
      const prev = existing.get(t.name);
      if (v.changes > 0 && (!prev || prev.hash !== hash)) {
        const isNew = sqlite
          .prepare("SELECT first_probe_id FROM tool_versions WHERE server_id = ? AND tool_name = ? AND hash = ?")
          .get(serverId, t.name, hash) as { first_probe_id: number } | undefined;
        if (isNew?.first_probe_id === probeId) out.newVersions++;
      }
      const fields = [
        typeof t.title === "string" ? cap(t.title) : null,
        cap(t.description),
        json(t.inputSchema),
        json(t.outputSchema),
        json(t.annotations),
        rawJson,
        hash,
      ];
      if (!prev) {
        let slug = slugify(t.name);
        const base = slug;
        for (let i = 2; usedSlugs.has(slug); i++) slug = `${base}-${i}`;
        usedSlugs.add(slug);
        insTool.run(serverId, t.name, slug, ...fields, now, now, hash, hash);
        out.added.push({ name: t.name, from: null, to: hash });
      } else if (prev.hash !== hash || prev.removed_at) {
        updTool.run(...fields, now, hash, hash, prev.id);
        (prev.removed_at ? out.added : out.changed).push({
          name: t.name,
          from: prev.removed_at ? null : prev.hash,
          to: hash,
        });
      } else {
        touchTool.run(now, prev.id);
        out.unchanged++;
      }
    }
    const markRemoved = sqlite.prepare("UPDATE tools SET removed_at = ? WHERE id = ?");
    for (const [name, r] of existing) {
      if (!seen.has(name) && !r.removed_at) {
        markRemoved.run(now, r.id);
        out.removed.push({ name, from: r.hash, to: null });
      }
    }
    replaceItems(sqlite, serverId, "prompt", result.prompts);
    replaceItems(sqlite, serverId, "resource", result.resources);
    replaceItems(sqlite, serverId, "resource_template", result.resourceTemplates);
    return out;
  })();
}

function replaceItems(
  sqlite: Database.Database,
  serverId: number,
  kind: string,
  items: (RawPrompt | RawResource)[] | undefined,
): void {
  const db = orm(sqlite);
  db.delete(serverItems)
    .where(and(eq(serverItems.serverId, serverId), eq(serverItems.kind, kind)))
    .run();
  const rows: (typeof serverItems.$inferInsert)[] = [];
  for (const it of items ?? []) {
    const name = (it as RawResource).uri ?? (it as RawResource).uriTemplate ?? it.name;
    if (typeof name !== "string") continue;
    rows.push({ serverId, kind, name, description: cap(it.description), raw: it, hash: contentHash(it) });
  }
  // One statement per 100 items keeps under SQLite's parameter limit; a repeated name keeps its first item.
  for (let i = 0; i < rows.length; i += 100)
    db.insert(serverItems)
      .values(rows.slice(i, i + 100))
      .onConflictDoNothing()
      .run();
}

/** Stores a classification for a definition hash (idempotent per classifier version). */
export function saveClassification(sqlite: Database.Database, hash: string, c: Classification): void {
  const db = orm(sqlite);
  const row = {
    access: c.access,
    destructive: c.destructive,
    financial: c.financial,
    category: c.category,
    risk: c.risk,
    confidence: c.confidence,
    signals: c.signals,
    flags: c.flags,
    source: c.source,
  };
  db.insert(classifications)
    .values({ hash, classifierVersion: c.classifierVersion, ...row })
    .onConflictDoUpdate({ target: [classifications.hash, classifications.classifierVersion], set: row })
    .run();
  // The newest classification is the current one: copy its category and risk onto the tools it describes.
  db.update(tools).set({ category: c.category, risk: c.risk }).where(eq(tools.hash, hash)).run();
}

/** Current tool definitions (optionally of one server) that have no classification for this classifier version. */
export function unclassifiedTools(
  sqlite: Database.Database,
  classifierVersion: string,
  serverId?: number,
): { hash: string; server: string; raw: RawTool }[] {
  const db = orm(sqlite);
  const classified = db
    .select({ one: sql`1` })
    .from(classifications)
    .where(and(eq(classifications.hash, tools.hash), eq(classifications.classifierVersion, classifierVersion)));
  const rows = db
    .select({ hash: tools.hash, server: servers.name, raw: tools.raw })
    .from(tools)
    .innerJoin(servers, eq(servers.id, tools.serverId))
    .where(
      and(
        isNull(tools.removedAt),
        serverId === undefined ? undefined : eq(tools.serverId, serverId),
        notExists(classified),
      ),
    )
    .groupBy(tools.hash)
    .orderBy(asc(tools.id))
    .all();
  return rows as { hash: string; server: string; raw: RawTool }[];
}
