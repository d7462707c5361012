import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

describe("serve and mcp refuse a catalog that is not there", () => {
  const dir = mkdtempSync(join(tmpdir(), "serve-missing-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const cmd of [["serve", "--port", "0"], ["mcp"]]) {
    it(`${cmd[0]} on a mistyped --db exits 3 with one line and creates no file`, async () => {
      const db = join(dir, "catlog.db");
      const r = await runCli(["--db", db, ...cmd], { timeoutMs: 60_000 });
      expect(r.code).toBe(3);
      expect(r.stderr.trim().split("\n")).toEqual([
        `mcp-census: no catalog at ${db}: run \`mcp-census crawl\` first (or pass --db)`,
      ]);
      expect(existsSync(db)).toBe(false);
    });
  }
});
