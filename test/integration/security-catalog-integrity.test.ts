/**
 * Issue 17 item 7: a catalog with garbage in its middle (header intact) gave "database disk image is malformed",
 * exit 1, no path — and `crawl` then wrote into it; a catalog naming a migration this version does not know was read
 * and written. Now: PRAGMA quick_check before writing, unknown migrations refused, exit 4, the file byte-identical.
 * Real SQLite files, the real CLI.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/core/errors.js";
import { openCatalog } from "../../src/store/db.js";
import { openLlmCacheFile } from "../../src/store/llm-cache.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

function freshCatalog(path: string): void {
  const cat = openCatalog(path);
  cat.sqlite.pragma("journal_mode = DELETE"); // one file, no -wal beside it
  cat.close();
}

/** A catalog whose migration log names a migration this version does not ship (as a newer mcp-census writes). */
function newerCatalog(path: string): void {
  freshCatalog(path);
  const cat = openCatalog(path);
  cat.sqlite
    .prepare("INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)")
    .run("f".repeat(64), 4102444800000);
  cat.sqlite.pragma("journal_mode = DELETE");
  cat.close();
}

describe("damaged or newer catalogs are refused and left untouched (issue 17 item 7)", () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it("garbage in the middle of the file: exit 4 naming the file, no write", async () => {
    const path = join(t.dir, "corrupt.db");
    freshCatalog(path);
    const size = statSync(path).size;
    const pageSize = 4096;
    expect(size).toBeGreaterThan(pageSize * 6);
    const fd = openSync(path, "r+");
    // Pages 3–5 overwritten, the 100-byte header and page 1 intact.
    writeSync(fd, Buffer.alloc(pageSize * 3, 0x5a), 0, pageSize * 3, pageSize * 2);
    closeSync(fd);
    const before = sha(path);
    let err: unknown;
    try {
      openCatalog(path).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("db_corrupt");
    expect((err as AppError).message).toContain(path);
    const r = await runCli(["crawl", "--no-probe", "--no-outputs"], {
      env: { MCP_CENSUS_DB: path, MCP_CENSUS_DATA_DIR: t.dir },
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain(path);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(sha(path)).toBe(before);
  }, 150_000);

  it("a migration this version does not know: refused as written by a newer mcp-census, file untouched", () => {
    const path = join(t.dir, "newer.db");
    newerCatalog(path);
    const before = sha(path);
    expect(() => openCatalog(path)).toThrow(/written by a newer mcp-census/);
    try {
      openCatalog(path);
    } catch (e) {
      expect((e as AppError).code).toBe("db_unwritable"); // exit 4
      expect((e as AppError).message).toContain(path);
    }
    expect(sha(path)).toBe(before);
  });
  it("classify's LLM cache (opened without the whole-file check) writes nothing into a damaged or newer catalog", () => {
    const damaged = join(t.dir, "cache-corrupt.db");
    freshCatalog(damaged);
    const fd = openSync(damaged, "r+");
    // A page in the middle, away from the pages the open reads (schema, migration log).
    const pages = Math.floor(statSync(damaged).size / 4096);
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 4096 * Math.floor(pages / 2));
    closeSync(fd);
    const newer = join(t.dir, "cache-newer.db");
    newerCatalog(newer);

    for (const path of [damaged, newer]) {
      const before = sha(path);
      let file: ReturnType<typeof openLlmCacheFile> | undefined;
      try {
        file = openLlmCacheFile(path);
      } catch {
        // Refused at open: nothing written either.
      }
      if (file) {
        // The answer is not cached (a miss next time), and classifying goes on: no throw.
        expect(() => file!.table.set("some-key", '{"x":1}'), path).not.toThrow();
        expect(() => file!.table.set("other-key", '{"x":2}'), path).not.toThrow();
        file.close();
      }
      expect(sha(path), path).toBe(before);
    }
  });
});
