import { createHash } from "node:crypto";
import Database from "better-sqlite3";

/**
 * A server's search entries: documents (JSON) and postings [token, rank key within the token, index into docs].
 * Each document is stored once, however many tokens point to it.
 */
export interface ServerSearchRows {
  docs: string[];
  postings: [token: string, rank: string, doc: number][];
}

/** Rows per statement of a full build's postings load (SiteState.beginBulk). */
const LOAD_ROWS = 64;

/** Layout version of the manifest; bump when a derived table changes shape. */
const STATE_SCHEMA = 8;

/**
 * The build manifest, kept in SQLite beside the site (never published): each file's content hash and owner
 * (server id, 0 = global pages), each server's input fingerprint and summary, the tool summaries and search
 * postings that global pages are rebuilt from, and the input key of each paged listing — so a change to one server
 * re-reads and re-renders only what that server appears in.
 *
 * Not the catalog: its own file, its own layout (STATE_SCHEMA, dropped and rebuilt rather than migrated), so it has
 * no drizzle schema. It stays on prepared statements with array rows because it is the site build's hot path, which
 * was measured: a file's lookup and write cost 6–7 µs over these statements, 9.5–13 µs over drizzle's prepared
 * statements and 150–240 µs over its query builder (scripts/bench-store-builder.ts, BENCHMARKS.md) — a full build of
 * the 500,000-tool site does about a million of each, so +4–6 s and +150–230 s respectively.
 */
export class SiteState<
  ServerMeta extends { id: number; slug: string } = { id: number; slug: string },
  ToolSummary extends { ch: string } = { ch: string },
> {
  readonly db: Database.Database;
  private readonly stmts;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = OFF");
    // The file list of a full-size site has a million rows: keep its B-tree in memory while it is rewritten.
    this.db.pragma("cache_size = -131072");
    // Everything but the file list is derived: an older layout is dropped (the next build is then a full one).
    if ((this.db.pragma("user_version", { simple: true }) as number) < STATE_SCHEMA) {
      this.db.exec(`
        DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS servers; DROP TABLE IF EXISTS tools;
        DROP TABLE IF EXISTS postings; DROP TABLE IF EXISTS page_keys; DROP TABLE IF EXISTS server_tools;
        DROP TABLE IF EXISTS search_docs; DROP TABLE IF EXISTS postings_load; DROP TABLE IF EXISTS blobs;
        PRAGMA user_version = ${STATE_SCHEMA};
      `);
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS servers (id INTEGER PRIMARY KEY, slug TEXT NOT NULL, fp TEXT NOT NULL, sfp TEXT NOT NULL,
        ufp TEXT NOT NULL, meta TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS server_tools (id INTEGER PRIMARY KEY, tools TEXT NOT NULL);
      -- A document carries its rank key and its tokens, so a server's postings are found (and deleted) from its
      -- documents: no index of postings by server (at 500k tools that index was as big as the postings and its
      -- sort the largest single cost of a full build's manifest).
      CREATE TABLE IF NOT EXISTS search_docs (server_id INTEGER NOT NULL, idx INTEGER NOT NULL, doc TEXT NOT NULL,
        rk TEXT NOT NULL, toks TEXT NOT NULL, PRIMARY KEY (server_id, idx)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS postings (token TEXT NOT NULL, rk TEXT NOT NULL, server_id INTEGER NOT NULL,
        idx INTEGER NOT NULL, PRIMARY KEY (token, rk, server_id)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, hash TEXT NOT NULL, owner INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS files_owner ON files(owner);
      CREATE INDEX IF NOT EXISTS servers_fp ON servers(id, fp);
      CREATE TABLE IF NOT EXISTS page_keys (path TEXT PRIMARY KEY, key TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS blobs (k TEXT PRIMARY KEY, v BLOB NOT NULL);
    `);
    const db = this.db;
    this.stmts = {
      getFile: db.prepare("SELECT hash FROM files WHERE path = ?").pluck(),
      putFile: db.prepare("INSERT OR REPLACE INTO files (path, hash, owner) VALUES (?, ?, ?)"),
      delFile: db.prepare("DELETE FROM files WHERE path = ?"),
      ownerOf: db.prepare("SELECT owner FROM files WHERE path = ?").pluck(),
      staleServer: db.prepare("UPDATE servers SET fp = '' WHERE id = ?"),
      filesOf: db.prepare("SELECT path FROM files WHERE owner = ?").pluck(),
      putServer: db.prepare("INSERT OR REPLACE INTO servers (id, slug, fp, sfp, ufp, meta) VALUES (?, ?, ?, ?, ?, ?)"),
      // Tool summaries apart from the narrow server rows, which every build reads in full.
      putServerTools: db.prepare("INSERT OR REPLACE INTO server_tools (id, tools) VALUES (?, ?)"),
      delServer: db.prepare("DELETE FROM servers WHERE id = ?"),
      delServerTools: db.prepare("DELETE FROM server_tools WHERE id = ?"),
      toolsOf: db.prepare("SELECT tools FROM server_tools WHERE id = ?").pluck(),
      metaOf: db.prepare("SELECT meta FROM servers WHERE id = ?").pluck(),
      docsOf: db.prepare("SELECT rk, doc, toks FROM search_docs WHERE server_id = ?").raw(),
      cutoff: db
        .prepare("SELECT rk FROM postings WHERE token = ? AND server_id <> ? ORDER BY rk LIMIT 1 OFFSET ?")
        .pluck(),
      delPosting: db.prepare("DELETE FROM postings WHERE token = ? AND rk = ? AND server_id = ?"),
      delDocs: db.prepare("DELETE FROM search_docs WHERE server_id = ?"),
      putDoc: db.prepare("INSERT INTO search_docs (server_id, idx, doc, rk, toks) VALUES (?, ?, ?, ?, ?)"),
      putPosting: db.prepare("INSERT OR IGNORE INTO postings (token, rk, server_id, idx) VALUES (?, ?, ?, ?)"),
      ...postingStatements(db),
      getKey: db.prepare("SELECT key FROM page_keys WHERE path = ?").pluck(),
      putKey: db.prepare("INSERT OR REPLACE INTO page_keys (path, key) VALUES (?, ?)"),
    };
  }

  /** Opens the build's transaction (a build commits every few hundred servers with checkpoint()). */
  begin(): void {
    this.db.exec("BEGIN");
  }
  /** Commits what was written so far and opens the next transaction. */
  checkpoint(): void {
    this.db.exec("COMMIT; BEGIN");
  }
  /** Commits the open transaction, if any. */
  commit(): void {
    if (this.db.inTransaction) this.db.exec("COMMIT");
  }

  meta(k: string): string | undefined {
    return (this.db.prepare("SELECT v FROM meta WHERE k = ?").pluck().get(k) as string | undefined) ?? undefined;
  }
  setMeta(k: string, v: string): void {
    this.db.prepare("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)").run(k, v);
  }
  /** A derived value kept as bytes (the global pages' index); undefined deletes it. */
  blob(k: string): Buffer | undefined {
    return (this.db.prepare("SELECT v FROM blobs WHERE k = ?").pluck().get(k) as Buffer | undefined) ?? undefined;
  }
  setBlob(k: string, v: Buffer | undefined): void {
    if (v === undefined) this.db.prepare("DELETE FROM blobs WHERE k = ?").run(k);
    else this.db.prepare("INSERT OR REPLACE INTO blobs (k, v) VALUES (?, ?)").run(k, v);
  }
  /** Forgets all derived data but keeps the file list, so a full build still deletes stale files. */
  resetDerived(): void {
    this.db.exec(
      "DELETE FROM meta; DELETE FROM servers; DELETE FROM server_tools; DELETE FROM postings; DELETE FROM search_docs; DELETE FROM page_keys; DELETE FROM blobs;",
    );
  }
  fingerprints(): Map<number, string> {
    // Rows as arrays: 40,000 row objects cost more than the query.
    return new Map(this.db.prepare("SELECT id, fp FROM servers").raw().all() as [number, string][]);
  }
  /**
   * Every server's summary, the hash of what it contributes to global pages (sfp) and the key of its page URLs (ufp:
   * what the sitemaps show of it).
   */
  metas(): { meta: ServerMeta; sfp: string; ufp: string }[] {
    const out: { meta: ServerMeta; sfp: string; ufp: string }[] = [];
    for (const [sfp, ufp, meta] of this.db.prepare("SELECT sfp, ufp, meta FROM servers").raw().all() as [
      string,
      string,
      string,
    ][])
      out.push({ meta: JSON.parse(meta) as ServerMeta, sfp, ufp });
    return out;
  }
  /** One server's summary (undefined when the manifest does not know it). */
  metaOf(id: number): ServerMeta | undefined {
    const json = this.stmts.metaOf.get(id) as string | undefined;
    return json === undefined ? undefined : (JSON.parse(json) as ServerMeta);
  }
  owners(): number[] {
    return this.db.prepare("SELECT DISTINCT owner FROM files").pluck().all() as number[];
  }
  /**
   * For a full build, after resetDerived: postings go to a load table and are inserted into their (token, rank)
   * B-tree once, sorted, by endBulk (much cheaper than a million inserts in random order). Token sizes for the
   * shard plan are counted on the way (tokenSizes reads them instead of joining every posting to its document).
   */
  beginBulk(): void {
    this.bulk = true;
    this.sizes = new Map();
    this.db.exec(`
      DROP TABLE IF EXISTS postings_load;
      CREATE TEMP TABLE postings_load (token TEXT NOT NULL, rk TEXT NOT NULL, server_id INTEGER NOT NULL, idx INTEGER NOT NULL);`);
    this.load = this.db.prepare("INSERT INTO postings_load (token, rk, server_id, idx) VALUES (?, ?, ?, ?)");
    this.loadMany = this.db.prepare(
      `INSERT INTO postings_load (token, rk, server_id, idx) VALUES ${Array(LOAD_ROWS).fill("(?, ?, ?, ?)").join(", ")}`,
    );
    this.loadBuf = [];
  }
  private load: Database.Statement | undefined;
  /** The bulk load's rows go in LOAD_ROWS at a time (one statement for many rows: half the cost of one per row). */
  private loadMany: Database.Statement | undefined;
  private loadBuf: (string | number)[] = [];
  endBulk(): void {
    this.flushLoad(true);
    this.bulk = false;
    this.load = undefined;
    this.loadMany = undefined;
    // Postings are stored in (token, rank) order, so a token's best documents sit together on disk: loaded sorted.
    this.db.exec(`
      INSERT OR IGNORE INTO postings SELECT token, rk, server_id, idx FROM postings_load ORDER BY token, rk, server_id;
      DROP TABLE postings_load;`);
  }
  private bulk = false;
  /** Per token: postings and bytes of their documents, counted during a bulk load (undefined otherwise). */
  private sizes: Map<string, { n: number; bytes: number }> | undefined;

  /**
   * Replaces everything stored for one server (in bulk mode there is nothing to replace). Returns its summary
   * fingerprint (sfp: the hash of what it shows on global pages).
   */
  putServer(
    meta: ServerMeta,
    fp: string,
    tools: ToolSummary[] | ServerSummaryRows,
    search: ServerSearchRows,
    ufp = "",
  ): string {
    const s = this.stmts;
    const { metaJson, toolsJson, sfp } = Array.isArray(tools) ? summaryRows(meta, tools) : tools;
    s.putServer.run(meta.id, meta.slug, fp, sfp, ufp, metaJson);
    s.putServerTools.run(meta.id, toolsJson);
    if (!this.bulk) this.deleteSearch(meta.id);
    // Each document's rank key and tokens (the same rank key for all of a document's postings).
    const rks: string[] = [];
    const toks: string[][] = search.docs.map(() => []);
    for (const [tok, rk, doc] of search.postings) {
      rks[doc] = rk;
      toks[doc]!.push(tok);
    }
    for (const [i, doc] of search.docs.entries()) s.putDoc.run(meta.id, i, doc, rks[i] ?? "", toks[i]!.join(" "));
    const sizes = this.sizes;
    if (!this.bulk || !sizes) {
      for (const [tok, rk, doc] of search.postings) s.putPosting.run(tok, rk, meta.id, doc);
      return sfp;
    }
    // A (token, rank key) pair is stored once (INSERT OR IGNORE), so it is counted once: the tokens seen, by rank key
    // (a document's postings share one rank key string, so this makes no key string per posting).
    const seen = new Map<string, Set<string>>();
    const buf = this.loadBuf;
    for (const [tok, rk, doc] of search.postings) {
      buf.push(tok, rk, meta.id, doc);
      let toks = seen.get(rk);
      if (!toks) {
        toks = new Set();
        seen.set(rk, toks);
      } else if (toks.has(tok)) continue;
      toks.add(tok);
      const z = sizes.get(tok);
      const bytes = search.docs[doc]!.length;
      if (z) {
        z.n++;
        z.bytes += bytes;
      } else sizes.set(tok, { n: 1, bytes });
    }
    this.flushLoad(false);
    return sfp;
  }
  /** Inserts the bulk load's buffered rows: whole statements of LOAD_ROWS rows, and with `all` the rest one by one. */
  private flushLoad(all: boolean): void {
    const buf = this.loadBuf;
    const many = this.loadMany;
    const one = this.load;
    if (!many || !one) return;
    const width = LOAD_ROWS * 4;
    let i = 0;
    for (; i + width <= buf.length; i += width) many.run(buf.slice(i, i + width));
    if (all) for (; i < buf.length; i += 4) one.run(buf[i], buf[i + 1], buf[i + 2], buf[i + 3]);
    buf.splice(0, i);
  }
  /** Deletes a server's documents and postings (found from its documents' rank keys and tokens). */
  private deleteSearch(id: number): void {
    const s = this.stmts;
    for (const [rk, , toks] of s.docsOf.all(id) as [string, string, string][])
      for (const tok of toks.split(" ")) if (tok) s.delPosting.run(tok, rk, id);
    s.delDocs.run(id);
  }
  deleteServer(id: number): void {
    this.stmts.delServer.run(id);
    this.stmts.delServerTools.run(id);
    this.deleteSearch(id);
  }
  /** A server's tool summaries, in page order (one row, one parse). */
  toolsOf(id: number): ToolSummary[] {
    const json = this.stmts.toolsOf.get(id) as string | undefined;
    return json ? (JSON.parse(json) as ToolSummary[]) : [];
  }
  tokensOf(id: number): string[] {
    const out = new Set<string>();
    for (const [, , toks] of this.stmts.docsOf.all(id) as [string, string, string][])
      for (const tok of toks.split(" ")) if (tok) out.add(tok);
    return [...out];
  }
  /**
   * What a server contributes to each of its tokens' search lists (rank keys and documents, in rank order): a token
   * whose entries are the same before and after a change shows the same.
   */
  searchEntriesOf(id: number): Map<string, TokenEntries> {
    const rows: [string, string, string][] = [];
    for (const [rk, doc, toks] of this.stmts.docsOf.all(id) as [string, string, string][])
      for (const tok of toks.split(" ")) if (tok) rows.push([tok, rk, doc]);
    return entriesByToken(rows);
  }
  /**
   * The rank key a token's list is cut at without this server: the (max+1)-th best of the other servers' postings
   * (a shard keeps the best max and a flag for "more"), or undefined when the others have no more than max.
   */
  cutoffWithout(token: string, id: number, max: number): string | undefined {
    return this.stmts.cutoff.get(token, id, max) as string | undefined;
  }
  /** Per token: number of postings and bytes of their documents, for tokens in [from, to). */
  tokenSizes(from = "", to = "\uffff"): { token: string; n: number; bytes: number }[] {
    if (this.sizes && from === "" && to === "\uffff")
      return [...this.sizes]
        .map(([token, z]) => ({ token, n: z.n, bytes: z.bytes }))
        .sort((a, b) => (a.token < b.token ? -1 : a.token > b.token ? 1 : 0));
    return this.db
      .prepare(
        "SELECT p.token, count(*) AS n, sum(length(d.doc)) AS bytes FROM postings p JOIN search_docs d ON d.server_id = p.server_id AND d.idx = p.idx WHERE p.token >= ? AND p.token < ? GROUP BY p.token ORDER BY p.token",
      )
      .all(from, to) as never;
  }
  /**
   * The tokens in [from, to) in order, each with its best `max` documents by rank and whether it has more. Read from
   * the (token, rk) index by seeking token to token, so a token with 100,000 postings costs `max` rows.
   */
  rankedPostingsIn(from: string, to: string, max: number): RankedPostings[] {
    return rankedPostings(this.stmts, from, to, max);
  }
  /** Every paged output's key, by path. */
  pageKeys(): Map<string, string> {
    const rows = this.db.prepare("SELECT path, key FROM page_keys").raw().all() as [string, string][];
    return new Map(rows);
  }
  pageKey(path: string): string | undefined {
    return this.stmts.getKey.get(path) as string | undefined;
  }
  setPageKey(path: string, key: string): void {
    this.stmts.putKey.run(path, key);
  }
  fileHash(path: string): string | undefined {
    return this.stmts.getFile.get(path) as string | undefined;
  }
  putFileHash(path: string, hash: string, owner: number): void {
    this.stmts.putFile.run(path, hash, owner);
  }
  deleteFile(path: string): void {
    this.stmts.delFile.run(path);
  }
  /**
   * Forgets a file that may not be on disk (its write failed), and its server's fingerprint, so the next build
   * renders that server and writes the file again (global pages are re-rendered when a file of theirs is unknown).
   */
  forgetFile(path: string): void {
    const owner = this.stmts.ownerOf.get(path) as number | undefined;
    this.stmts.delFile.run(path);
    if (owner) this.stmts.staleServer.run(owner);
  }
  filesOf(owner: number): string[] {
    return this.stmts.filesOf.all(owner) as string[];
  }
  close(): void {
    this.db.close();
  }
}

/** What one server contributes to one token's search list: its rank keys, and all of it as one comparable string. */
export interface TokenEntries {
  ranks: string[];
  key: string;
}

/**
 * Groups search entries [token, rank key, document] by token, sorted by rank key; the first entry of a (token, rank
 * key) pair wins, as in the postings table (INSERT OR IGNORE on that key).
 */
export function entriesByToken(rows: Iterable<readonly [string, string, string]>): Map<string, TokenEntries> {
  const by = new Map<string, Map<string, string>>();
  for (const [tok, rk, doc] of rows) {
    let m = by.get(tok);
    if (!m) {
      m = new Map();
      by.set(tok, m);
    }
    if (!m.has(rk)) m.set(rk, doc);
  }
  const out = new Map<string, TokenEntries>();
  for (const [tok, m] of by) {
    const ranks = [...m.keys()].sort();
    out.set(tok, { ranks, key: JSON.stringify(ranks.map((rk) => [rk, m.get(rk)])) });
  }
  return out;
}

/** A server's summary and tool summaries as stored, and the hash of both (sfp: what it shows on global pages). */
export interface ServerSummaryRows {
  metaJson: string;
  toolsJson: string;
  sfp: string;
}

/** The rows putServer stores for a server (made apart so a render worker can make them). */
export function summaryRows(meta: unknown, tools: unknown[]): ServerSummaryRows {
  const metaJson = JSON.stringify(meta);
  const toolsJson = JSON.stringify(tools);
  return { metaJson, toolsJson, sfp: hashContent(`${metaJson}\n${toolsJson}`) };
}

/** Content hash used in the manifest. */
export const hashContent = (s: string | Buffer): string => createHash("sha1").update(s).digest("base64url");

/** A token with its best documents by rank, and whether it has more. */
export interface RankedPostings {
  token: string;
  docs: string[];
  capped: boolean;
}

/** The statements that read ranked postings (SiteState's and PostingsReader's). */
function postingStatements(db: Database.Database) {
  return {
    firstToken: db.prepare("SELECT token FROM postings WHERE token >= ? AND token < ? ORDER BY token LIMIT 1").pluck(),
    nextToken: db.prepare("SELECT token FROM postings WHERE token > ? AND token < ? ORDER BY token LIMIT 1").pluck(),
    bestDocs: db
      .prepare(
        "SELECT d.doc FROM postings p JOIN search_docs d ON d.server_id = p.server_id AND d.idx = p.idx WHERE p.token = ? ORDER BY p.rk LIMIT ?",
      )
      .pluck(),
  };
}

function rankedPostings(
  s: ReturnType<typeof postingStatements>,
  from: string,
  to: string,
  max: number,
): RankedPostings[] {
  const out: RankedPostings[] = [];
  let tok = s.firstToken.get(from, to) as string | undefined;
  while (tok !== undefined) {
    const docs = s.bestDocs.all(tok, max + 1) as string[];
    const capped = docs.length > max;
    if (capped) docs.length = max;
    out.push({ token: tok, docs, capped });
    tok = s.nextToken.get(tok, to) as string | undefined;
  }
  return out;
}

/**
 * A read-only connection to a build state, for a thread that builds search shards while the build's own connection
 * writes other tables: it sees the postings as last committed.
 */
export class PostingsReader {
  private readonly db: Database.Database;
  private readonly stmts;
  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.db.pragma("busy_timeout = 10000");
    this.stmts = postingStatements(this.db);
  }
  rankedPostingsIn(from: string, to: string, max: number): RankedPostings[] {
    return rankedPostings(this.stmts, from, to, max);
  }
  close(): void {
    this.db.close();
  }
}
