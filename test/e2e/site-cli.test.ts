import { execFile } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFixtureCatalog } from "../unit/site-fixture.js";

const run = promisify(execFile);
const CLI = ["--import", "tsx", join(process.cwd(), "src/cli/main.ts")];

describe("mcp-census site", () => {
  let fx: ReturnType<typeof buildFixtureCatalog>;
  beforeAll(() => {
    fx = buildFixtureCatalog();
    fx.cat.close();
  });
  afterAll(() => rmSync(fx.dir, { recursive: true, force: true }));

  it("builds the site from the catalog, then finds nothing to rewrite", async () => {
    const out = join(fx.dir, "out-site");
    const db = join(fx.dir, "catalog.db");
    const args = [...CLI, "--db", db, "--json", "site", "--out", out, "--base-url", "https://c.example/"];
    const first = await run(process.execPath, args);
    const r = JSON.parse(first.stdout);
    expect(r.serversRendered).toBe(2);
    expect(r.pagesWritten).toBeGreaterThan(40);
    expect(existsSync(join(out, "index.html"))).toBe(true);
    expect(existsSync(`${out}.state.db`)).toBe(true);
    const second = JSON.parse((await run(process.execPath, args)).stdout);
    expect(second.pagesWritten).toBe(0);
  });

  it("rejects a bad base URL and a missing catalog with one line and a non-zero exit", async () => {
    const db = join(fx.dir, "catalog.db");
    const bad = await run(process.execPath, [...CLI, "--db", db, "site", "--base-url", "not a url"]).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    const missing = await run(process.execPath, [
      ...CLI,
      "--db",
      join(fx.dir, "nope.db"),
      "site",
      "--out",
      join(fx.dir, "x"),
    ]).catch((e) => e);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no catalog/);
  });
});
