import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { openCatalog } from "../../src/store/db.js";
import { catalogStats } from "../../src/store/queries.js";
import { refreshCatalogStats } from "../../src/store/stats.js";
import { PKGS_DIR } from "../fixtures/servers/helpers.js";
import { runCli } from "../helpers/cli.js";

const data = mkdtempSync(join(tmpdir(), "mcp-census-cli-probe-"));
afterAll(() => rmSync(data, { recursive: true, force: true }));
const env = { MCP_CENSUS_DATA_DIR: data, MCP_CENSUS_RESOLVE_FROM: PKGS_DIR };

describe("mcp-census probe: -e and -- for launched targets", () => {
  it("passes -e and the arguments after -- to an npm server", async () => {
    const r = await runCli(
      [
        "probe",
        "--no-store",
        "--json",
        "npm:acme-mcp",
        "-e",
        "ACME_API_KEY=from-cli",
        "ACME_REGION=ap",
        "--",
        "--x",
        "y",
      ],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.outcome).toBe("ok");
    expect(j.tools[0].description).toBe('argv=["--x","y"] region=ap');
    expect(j.launch.env).toEqual({ ACME_API_KEY: "<given>", ACME_REGION: "<given>" });
    expect(r.stdout).not.toContain("from-cli");
  });

  it("rejects -e for a remote URL in one line instead of ignoring it", async () => {
    const r = await runCli(["probe", "--no-store", "https://example.invalid/mcp", "-e", "A=b"], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/-e and arguments apply to servers we launch/);
  });
});

describe("mcp-census probe: every tool shown with a verdict and its flags", () => {
  it("a poisoned description is flagged on the tool's own line, with a count, even without a catalog", async () => {
    const fixture = fileURLToPath(new URL("../fixtures/servers/poisoned-tool.mjs", import.meta.url));
    const r = await runCli(["probe", "--no-store", "--command", `${process.execPath} ${fixture}`], { env });
    expect(r.code, r.stderr).toBe(0);
    const line = (name: string) => r.stdout.split("\n").find((l) => l.startsWith(`  ${name} `)) ?? "";
    expect(line("get_weather")).toMatch(/\[Read\/low\]/);
    expect(line("get_weather")).not.toContain("⚑");
    expect(line("add_numbers")).toMatch(/⚑ [^ ]*poisoning:/);
    expect(line("add_numbers")).not.toMatch(/\[Read\//);
    expect(r.stdout).toMatch(/^1 tool is flagged \(⚑\)/m);
  });
});

describe("mcp-census probe: the stored statistics stay correct", () => {
  it("a stored probe refreshes the catalog's statistics instead of leaving them dirty", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcp-census-cli-probe-stats-"));
    try {
      const db = join(dir, "catalog.db");
      // A catalog whose stored statistics are clean (as a crawl leaves them): no servers, no tools.
      const before = openCatalog(db);
      expect(refreshCatalogStats(before.sqlite).tools).toBe(0);
      before.close();
      const fixture = fileURLToPath(new URL("../fixtures/servers/poisoned-tool.mjs", import.meta.url));
      const r = await runCli(["--db", db, "probe", "--command", `${process.execPath} ${fixture}`], { env });
      expect(r.code, r.stderr).toBe(0);
      const after = openCatalog(db, { readonly: true });
      try {
        const row = after.sqlite.prepare("SELECT stats, dirty FROM catalog_stats WHERE id = 1").get() as {
          stats: string;
          dirty: number;
        };
        // Stored clean, and equal to what counting the catalog now gives (the probe's tools and classifications).
        expect(row.dirty).toBe(0);
        const stored = JSON.parse(row.stats);
        expect(stored.tools).toBeGreaterThan(0);
        expect(stored).toEqual(JSON.parse(JSON.stringify(catalogStats(after.sqlite))));
      } finally {
        after.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
