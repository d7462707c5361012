/**
 * What drizzle's query builder costs against prepared statements with array rows, on the two store paths that were
 * still written as SQL strings without a measurement (issue 14): a server's current tools with their classifications
 * (`serverTools`: read once per server by the policies at a crawl's end, the export and `mcp-census lock`), and the
 * site's build manifest (`store/site-state.ts`: a file's hash looked up and written once per output file, about a
 * million of each in a full build of the 500,000-tool site).
 *
 *   npx tsx scripts/bench-store-builder.ts [--servers 2000] [--tools 24000] [--files 200000] [--rounds 5]
 *     [--db data/bench/builder-catalog.db]
 *
 * It also times every policy of every server (writeAllPolicies, which reads serverTools once per server), for scale.
 *
 * Arms run in turns inside each round (the order turns every round); the figure is the median over rounds. Every arm
 * of serverTools must return the same rows as the store's function (checked before timing).
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { writeAllPolicies } from "../src/policy/write-all.js";
import { openCatalog } from "../src/store/db.js";
import {
  CLASSIFICATION_JOIN,
  serverTools,
  serverToolsQuery,
  TOOL_COLUMNS,
  type ToolRow,
  toolRowOf,
  toToolRow,
} from "../src/store/queries.js";
import { SiteState } from "../src/store/site-state.js";
import { generateCatalog } from "./gen-catalog.js";

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const SERVERS = Number(arg("servers", "2000"));
const TOOLS = Number(arg("tools", "24000"));
const FILES = Number(arg("files", "200000"));
const ROUNDS = Number(arg("rounds", "5"));
const DB = resolve(arg("db", "data/bench/builder-catalog.db"));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (fn: () => void): number => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};

function runArms(arms: Record<string, () => void>): Record<string, number> {
  const names = Object.keys(arms);
  const ms: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [...names].reverse() : names;
    for (const n of order) ms[n]!.push(time(arms[n]!));
  }
  return Object.fromEntries(names.map((n) => [n, median(ms[n]!)]));
}

// ---- serverTools ----
if (!existsSync(DB)) {
  mkdirSync(dirname(DB), { recursive: true });
  generateCatalog({ servers: SERVERS, tools: TOOLS, out: DB });
}
const cat = openCatalog(DB);
const ids = (cat.sqlite.prepare("SELECT id FROM servers ORDER BY id").pluck().all() as number[]).slice(0, SERVERS);
const TOOL_SQL = `SELECT ${TOOL_COLUMNS} FROM tools t ${CLASSIFICATION_JOIN} WHERE t.server_id = ? AND t.removed_at IS NULL ORDER BY t.name`;
const rawPerCall = (id: number): ToolRow[] =>
  (cat.sqlite.prepare(TOOL_SQL).all(id) as Record<string, unknown>[]).map(toToolRow);
const cached = cat.sqlite.prepare(TOOL_SQL);
const rawCached = (id: number): ToolRow[] => (cached.all(id) as Record<string, unknown>[]).map(toToolRow);

const builderPerCall = (id: number): ToolRow[] => serverToolsQuery(cat.sqlite).all({ serverId: id }).map(toolRowOf);

let rows = 0;
for (const id of ids) {
  const want = JSON.stringify(serverTools(cat.sqlite, id));
  if (
    JSON.stringify(rawPerCall(id)) !== want ||
    JSON.stringify(rawCached(id)) !== want ||
    JSON.stringify(builderPerCall(id)) !== want
  )
    throw new Error(`serverTools differs from the SQL string for server ${id}`);
  rows += JSON.parse(want).length as number;
}
// What serverTools weighs in its heaviest caller: every policy of every server, as a crawl's end writes them (into an
// empty folder, then unchanged: the second run writes nothing, so it is mostly reading and rendering).
const POLICY_DIR = resolve(dirname(DB), "builder-policies");
rmSync(POLICY_DIR, { recursive: true, force: true });
const policies = [
  time(() => writeAllPolicies(cat.sqlite, POLICY_DIR)),
  time(() => writeAllPolicies(cat.sqlite, POLICY_DIR)),
];
rmSync(POLICY_DIR, { recursive: true, force: true });

const tools = runArms({
  "SQL string, prepared per call (before)": () => {
    for (const id of ids) rawPerCall(id);
  },
  "SQL string, cached statement": () => {
    for (const id of ids) rawCached(id);
  },
  "drizzle query builder, built per call": () => {
    for (const id of ids) builderPerCall(id);
  },
  "drizzle prepared once per connection (now)": () => {
    for (const id of ids) serverTools(cat.sqlite, id);
  },
});
cat.close();

// ---- the site manifest's per-file statements ----
const MANIFEST = resolve(dirname(DB), "builder-manifest.db");
rmSync(MANIFEST, { force: true });
rmSync(`${MANIFEST}-wal`, { force: true });
rmSync(`${MANIFEST}-shm`, { force: true });
const state = new SiteState(MANIFEST);
const files = sqliteTable("files", {
  path: text("path").primaryKey(),
  hash: text("hash").notNull(),
  owner: integer("owner").notNull(),
});
const db = drizzle(state.db);
const paths = Array.from({ length: FILES }, (_, i) => `servers/s${i % 40000}/tools/t${i}/index.html`);
const hashOf = (i: number, r: number) => `h${i}-${r}`;
const getPrepared = db
  .select({ hash: files.hash })
  .from(files)
  .where(eq(files.path, sql.placeholder("path")))
  .prepare();
const putPrepared = db
  .insert(files)
  .values({ path: sql.placeholder("path"), hash: sql.placeholder("hash"), owner: sql.placeholder("owner") })
  .onConflictDoUpdate({ target: files.path, set: { hash: sql`excluded.hash`, owner: sql`excluded.owner` } })
  .prepare();
let round = 0;
const manifest = runArms({
  "prepared statements (now)": () => {
    round++;
    state.begin();
    for (const [i, p] of paths.entries()) {
      state.fileHash(p);
      state.putFileHash(p, hashOf(i, round), i % 40000);
    }
    state.commit();
  },
  "drizzle query builder": () => {
    round++;
    state.begin();
    for (const [i, p] of paths.entries()) {
      db.select({ hash: files.hash }).from(files).where(eq(files.path, p)).get();
      db.insert(files)
        .values({ path: p, hash: hashOf(i, round), owner: i % 40000 })
        .onConflictDoUpdate({ target: files.path, set: { hash: hashOf(i, round), owner: i % 40000 } })
        .run();
    }
    state.commit();
  },
  "drizzle prepared (placeholders)": () => {
    round++;
    state.begin();
    for (const [i, p] of paths.entries()) {
      getPrepared.get({ path: p });
      putPrepared.run({ path: p, hash: hashOf(i, round), owner: i % 40000 });
    }
    state.commit();
  },
});
state.close();
new Database(MANIFEST).close();

const load = loadavg().map((l) => l.toFixed(2));
console.log(
  `load ${load.join(" ")}; ${ids.length} servers, ${rows} current tools; ${FILES} manifest files; ${ROUNDS} rounds (median)`,
);
console.log("serverTools, every server once:");
for (const [k, v] of Object.entries(tools))
  console.log(
    `  ${k.padEnd(42)} ${v.toFixed(1).padStart(8)} ms  ${((v * 1000) / ids.length).toFixed(1).padStart(7)} µs/server`,
  );
console.log(
  `  policies for every server (writeAllPolicies, its heaviest caller): ${policies[0]!.toFixed(0)} ms into an empty folder, ${policies[1]!.toFixed(0)} ms unchanged`,
);
console.log("site manifest, a lookup and a write per file:");
for (const [k, v] of Object.entries(manifest))
  console.log(
    `  ${k.padEnd(42)} ${v.toFixed(1).padStart(8)} ms  ${((v * 1000) / FILES).toFixed(2).padStart(7)} µs/file`,
  );
