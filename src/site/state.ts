import { createHash } from "node:crypto";
import Database from "better-sqlite3";
import type { ServerSummary } from "./server-pages.js";

/**
 * The build manifest: which file was written with which content hash and for which server (0 = global pages),
 * each server's input fingerprint and its summary (so global pages are rebuilt without re-reading unchanged
 * servers). Kept in SQLite beside the site, not inside it, so it is never published.
 */
export class SiteState {
  readonly db: Database.Database;
  private readonly getFile: Database.Statement;
  private readonly putFile: Database.Statement;
  private readonly delFile: Database.Statement;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = OFF");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS servers (id INTEGER PRIMARY KEY, slug TEXT NOT NULL, fp TEXT NOT NULL, summary TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, hash TEXT NOT NULL, owner INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS files_owner ON files(owner);
    `);
    this.getFile = this.db.prepare("SELECT hash FROM files WHERE path = ?").pluck();
    this.putFile = this.db.prepare("INSERT OR REPLACE INTO files (path, hash, owner) VALUES (?, ?, ?)");
    this.delFile = this.db.prepare("DELETE FROM files WHERE path = ?");
  }

  meta(k: string): string | undefined {
    return (this.db.prepare("SELECT v FROM meta WHERE k = ?").pluck().get(k) as string | undefined) ?? undefined;
  }
  setMeta(k: string, v: string): void {
    this.db.prepare("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)").run(k, v);
  }
  /** Forgets everything (a full build). */
  reset(): void {
    this.db.exec("DELETE FROM meta; DELETE FROM servers; DELETE FROM files;");
  }
  fingerprints(): Map<number, string> {
    const rows = this.db.prepare("SELECT id, fp FROM servers").all() as { id: number; fp: string }[];
    return new Map(rows.map((r) => [r.id, r.fp]));
  }
  summaries(): Map<number, ServerSummary> {
    const out = new Map<number, ServerSummary>();
    for (const r of this.db.prepare("SELECT id, summary FROM servers").iterate() as Iterable<{
      id: number;
      summary: string;
    }>) {
      out.set(r.id, JSON.parse(r.summary) as ServerSummary);
    }
    return out;
  }
  putServer(id: number, slug: string, fp: string, summary: ServerSummary): void {
    this.db
      .prepare("INSERT OR REPLACE INTO servers (id, slug, fp, summary) VALUES (?, ?, ?, ?)")
      .run(id, slug, fp, JSON.stringify(summary));
  }
  deleteServer(id: number): void {
    this.db.prepare("DELETE FROM servers WHERE id = ?").run(id);
  }
  fileHash(path: string): string | undefined {
    return this.getFile.get(path) as string | undefined;
  }
  putFileHash(path: string, hash: string, owner: number): void {
    this.putFile.run(path, hash, owner);
  }
  deleteFile(path: string): void {
    this.delFile.run(path);
  }
  filesOf(owner: number): string[] {
    return this.db.prepare("SELECT path FROM files WHERE owner = ?").pluck().all(owner) as string[];
  }
  close(): void {
    this.db.close();
  }
}

/** Content hash used in the manifest. */
export const hashContent = (s: string | Buffer): string => createHash("sha1").update(s).digest("base64url");
