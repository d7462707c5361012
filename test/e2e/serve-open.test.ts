/**
 * `serve` opens a current catalog read-only (issue 20): the writable open ran PRAGMA quick_check over the whole file
 * on every start (6–13 s at 500,000 tools). The check guards writes, and serving writes nothing. Shown with a real
 * catalog file whose one damaged page is a table the API never reads: `serve` starts and answers, leaves the file
 * byte-identical, and sees what a writer commits meanwhile; `crawl` on the same file still refuses it (exit 4).
 */
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, startServe } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";
import { buildTestCatalog } from "../integration/api-fixture.js";

const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
const procs: ChildProcess[] = [];
const cleanups: (() => void)[] = [];

describe("serve opens a current catalog read-only, without the whole-file check", () => {
  const t = tempDir("mcp-census-serve-open-");
  afterAll(() => {
    for (const p of procs) p.kill("SIGTERM");
    for (const c of cleanups) c();
    t.cleanup();
  });

  it("starts on a catalog with a damaged page it never reads, writes nothing; crawl still refuses the file", async () => {
    const cat = buildTestCatalog();
    cleanups.push(() => rmSync(cat.dir, { recursive: true, force: true }));
    const path = cat.path;
    // One file (no -wal beside it), then the root page of a table the API never reads overwritten with garbage.
    cat.catalog.sqlite.pragma("journal_mode = DELETE");
    const page = cat.catalog.sqlite.pragma("page_size", { simple: true }) as number;
    const root = (
      cat.catalog.sqlite.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'crawl_checkpoints'").get() as {
        rootpage: number;
      }
    ).rootpage;
    cat.catalog.close();
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.alloc(page, 0x5a), 0, page, (root - 1) * page);
    closeSync(fd);
    const check = new Database(path, { readonly: true });
    expect(check.pragma("quick_check", { simple: true })).not.toBe("ok");
    check.close();
    const before = sha(path);

    const base = await startServe(["--db", path, "--data-dir", t.dir], procs);
    const r = await fetch(`${base}/v1/tools/modelcontextprotocol-server-github/create_repository`);
    expect(r.status).toBe(200);
    expect((await r.json()).name).toBe("create_repository");
    expect((await fetch(`${base}/v1/tools?q=file&limit=5`)).status).toBe(200);
    expect((await fetch(`${base}/v1/stats`)).status).toBe(200);
    expect(sha(path)).toBe(before);

    // A writer's commit is seen by the running server (read-only is not a snapshot).
    const w = new Database(path);
    w.prepare("UPDATE servers SET description = 'changed by a writer' WHERE slug = ?").run(
      "modelcontextprotocol-server-github",
    );
    w.close();
    const after = await (await fetch(`${base}/v1/servers/modelcontextprotocol-server-github`)).json();
    expect(after.description).toBe("changed by a writer");

    // Writing commands still check the whole file first, and refuse it.
    const crawl = await runCli(["crawl", "--no-probe", "--no-outputs"], {
      env: { MCP_CENSUS_DB: path, MCP_CENSUS_DATA_DIR: t.dir },
      timeoutMs: 120_000,
    });
    expect(crawl.code, crawl.stderr).toBe(4);
    expect(crawl.stderr).toMatch(/integrity check/);
  }, 180_000);
});
