import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const now = sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`;

/** One canonical row per real server, merged across sources. */
export const servers = sqliteTable(
  "servers",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    title: text("title"),
    description: text("description"),
    version: text("version"),
    repositoryUrl: text("repository_url"),
    websiteUrl: text("website_url"),
    packages: text("packages", { mode: "json" }).notNull().$type<unknown[]>().default(sql`'[]'`),
    remotes: text("remotes", { mode: "json" }).notNull().$type<unknown[]>().default(sql`'[]'`),
    /** active | deprecated | deleted | removed (no longer listed by any source) */
    status: text("status").notNull().default("active"),
    firstSeen: text("first_seen").notNull().default(now),
    lastSeen: text("last_seen").notNull().default(now),
    lastProbeId: integer("last_probe_id"),
    lastOkProbeAt: text("last_ok_probe_at"),
    /**
     * Bumped by triggers (migration 0004) whenever anything a server's pages show changes: its own columns, its
     * registry listings, its change events. Readers that mirror the catalog (the static site) compare it alone.
     */
    rev: integer("rev").notNull().default(0),
    /** When `rev` last moved (triggers, migration 0008): the API's `updatedAt` and `updated_since`. */
    updatedAt: text("updated_at"),
  },
  (t) => [
    uniqueIndex("servers_slug").on(t.slug),
    uniqueIndex("servers_name").on(t.name),
    // Covers the site's change detection (every server's revision) without reading the wide rows.
    index("servers_status_rev").on(t.status, t.id, t.slug, t.rev),
  ],
);

/** Identity keys (reverse-DNS name, repository, package, remote URL) that map onto one server. */
export const serverKeys = sqliteTable(
  "server_keys",
  {
    key: text("key").notNull(),
    serverId: integer("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.key, t.serverId] }), index("server_keys_server").on(t.serverId)],
);

/** Which registry listed which server, with its raw entry. */
export const sources = sqliteTable(
  "sources",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    sourceId: text("source_id").notNull(),
    sourceKey: text("source_key").notNull(),
    serverId: integer("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    raw: text("raw", { mode: "json" }).notNull(),
    status: text("status").notNull().default("active"),
    upstreamUpdatedAt: text("upstream_updated_at"),
    popularity: real("popularity"),
    firstSeen: text("first_seen").notNull().default(now),
    lastSeen: text("last_seen").notNull().default(now),
  },
  (t) => [uniqueIndex("sources_key").on(t.sourceId, t.sourceKey), index("sources_server").on(t.serverId)],
);

/** Tools a registry itself reports for a server, kept beside what our probe sees. */
export const reportedTools = sqliteTable(
  "reported_tools",
  {
    sourceId: text("source_id").notNull(),
    serverId: integer("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    raw: text("raw", { mode: "json" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.serverId, t.name] })],
);

/** Every connection attempt. */
export const probes = sqliteTable(
  "probes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    serverId: integer("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    startedAt: text("started_at").notNull(),
    durationMs: integer("duration_ms").notNull(),
    transport: text("transport").notNull(),
    launch: text("launch", { mode: "json" }).notNull(),
    outcome: text("outcome").notNull(),
    error: text("error"),
    stderrTail: text("stderr_tail"),
    timings: text("timings", { mode: "json" }).notNull(),
    serverInfo: text("server_info", { mode: "json" }),
    protocolVersion: text("protocol_version"),
    capabilities: text("capabilities", { mode: "json" }),
    instructions: text("instructions"),
    placeholders: text("placeholders", { mode: "json" }).notNull(),
    warnings: text("warnings", { mode: "json" }).notNull(),
    auth: text("auth", { mode: "json" }),
    toolCount: integer("tool_count").notNull().default(0),
  },
  (t) => [index("probes_server").on(t.serverId, t.startedAt), index("probes_outcome").on(t.outcome)],
);

/** The current definition of each tool a server exposes (removed tools keep their row with removedAt). */
export const tools = sqliteTable(
  "tools",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    serverId: integer("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    title: text("title"),
    description: text("description"),
    inputSchema: text("input_schema", { mode: "json" }),
    outputSchema: text("output_schema", { mode: "json" }),
    annotations: text("annotations", { mode: "json" }),
    raw: text("raw", { mode: "json" }).notNull(),
    hash: text("hash").notNull(),
    firstSeen: text("first_seen").notNull(),
    lastSeen: text("last_seen").notNull(),
    removedAt: text("removed_at"),
    /** Copies of the newest classification of `hash` (kept by saveClassification/ingestProbe) so filters use an index. */
    category: text("category"),
    risk: text("risk"),
  },
  (t) => [
    uniqueIndex("tools_server_name").on(t.serverId, t.name),
    uniqueIndex("tools_server_slug").on(t.serverId, t.slug),
    index("tools_hash").on(t.hash),
    index("tools_category").on(t.category, t.serverId, t.name),
    index("tools_risk").on(t.risk, t.serverId, t.name),
  ],
);

/** Every distinct definition of a tool ever seen, by content hash. */
export const toolVersions = sqliteTable(
  "tool_versions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    serverId: integer("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    toolName: text("tool_name").notNull(),
    hash: text("hash").notNull(),
    raw: text("raw", { mode: "json" }).notNull(),
    firstSeen: text("first_seen").notNull(),
    lastSeen: text("last_seen").notNull(),
    firstProbeId: integer("first_probe_id"),
  },
  (t) => [uniqueIndex("tool_versions_key").on(t.serverId, t.toolName, t.hash)],
);

/** Prompts, resources and resource templates a server exposes (current listing). */
export const serverItems = sqliteTable(
  "server_items",
  {
    serverId: integer("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    /** prompt | resource | resource_template */
    kind: text("kind").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    raw: text("raw", { mode: "json" }).notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [primaryKey({ columns: [t.serverId, t.kind, t.name] })],
);

/** One classification per definition hash and classifier version. */
export const classifications = sqliteTable(
  "classifications",
  {
    hash: text("hash").notNull(),
    classifierVersion: text("classifier_version").notNull(),
    access: text("access").notNull(),
    destructive: integer("destructive", { mode: "boolean" }).notNull(),
    financial: integer("financial", { mode: "boolean" }).notNull(),
    category: text("category").notNull(),
    risk: text("risk").notNull(),
    confidence: real("confidence").notNull(),
    signals: text("signals", { mode: "json" }).notNull().$type<string[]>(),
    flags: text("flags", { mode: "json" }).notNull().$type<string[]>(),
    source: text("source").notNull(),
    createdAt: text("created_at").notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.hash, t.classifierVersion] }), index("classifications_cat").on(t.category, t.risk)],
);

/** One row per crawl run with its counters. */
export const crawlRuns = sqliteTable("crawl_runs", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  startedAt: text("started_at").notNull(),
  finishedAt: text("finished_at"),
  mode: text("mode").notNull(),
  status: text("status").notNull(),
  stats: text("stats", { mode: "json" }).notNull(),
});

/** Where a source crawl got to, so a killed crawl resumes; also conditional-request validators. */
export const crawlCheckpoints = sqliteTable("crawl_checkpoints", {
  sourceId: text("source_id").primaryKey(),
  cursor: text("cursor"),
  state: text("state", { mode: "json" }),
  updatedAt: text("updated_at").notNull(),
});

/** Entries or pages a source could not use, with the reason and (capped) raw payload. */
export const sourceErrors = sqliteTable(
  "source_errors",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    runId: integer("run_id"),
    sourceId: text("source_id").notNull(),
    at: text("at").notNull(),
    error: text("error").notNull(),
    raw: text("raw"),
  },
  (t) => [index("source_errors_source").on(t.sourceId, t.at)],
);

/** One row per detected change in a server's tool listing, with its severity and reason (drift history). */
export const changes = sqliteTable(
  "changes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    serverId: integer("server_id")
      .notNull()
      .references(() => servers.id, { onDelete: "cascade" }),
    probeId: integer("probe_id"),
    at: text("at").notNull(),
    toolName: text("tool_name").notNull(),
    /** tool_added | tool_removed | description_changed | schema_changed | annotations_changed | classification_changed */
    kind: text("kind").notNull(),
    /** low | medium | high */
    severity: text("severity").notNull(),
    reason: text("reason").notNull(),
    fromHash: text("from_hash"),
    toHash: text("to_hash"),
    details: text("details", { mode: "json" }).notNull(),
    /** Same probe, tool and hashes give the same key: recording an ingest twice stores nothing new. */
    dedupeKey: text("dedupe_key").notNull(),
  },
  (t) => [
    uniqueIndex("changes_dedupe").on(t.dedupeKey),
    index("changes_server").on(t.serverId, t.id),
    index("changes_at").on(t.at),
  ],
);

/** Each change is POSTed at most once per webhook URL; attempts and failures are kept. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    changeId: integer("change_id")
      .notNull()
      .references(() => changes.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    /** pending | sending | delivered | failed */
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    nextAttemptAt: text("next_attempt_at"),
    claimedAt: text("claimed_at"),
    deliveredAt: text("delivered_at"),
  },
  (t) => [uniqueIndex("webhook_deliveries_key").on(t.changeId, t.url), index("webhook_deliveries_status").on(t.status)],
);

/**
 * The catalog's statistics, computed once and kept (one row, id 1). Created by migration 0006 with the triggers that
 * mark it dirty on any write that could change it (`store/stats.ts`).
 */
export const catalogStatsTable = sqliteTable(
  "catalog_stats",
  {
    id: integer("id").primaryKey(),
    stats: text("stats").notNull(),
    computedAt: text("computed_at").notNull(),
    dirty: integer("dirty").notNull().default(0),
  },
  (t) => [check("catalog_stats_one_row", sql`${t.id} = 1`)],
);

/**
 * LLM answers by key (definition hash + model + prompt version), as JSON text the classifier validates when it reads
 * it back (`store/llm-cache.ts`). Migration 0009; before it, the table was created on first use with this shape.
 */
export const llmCache = sqliteTable("llm_cache", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  createdAt: text("created_at").notNull(),
});
