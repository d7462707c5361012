import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyProbeResult, type ProbeResult, type RawTool } from "../../src/core/types.js";
import { recordChanges } from "../../src/history/index.js";
import { ingestProbe, upsertSourceEntry } from "../../src/store/catalog.js";
import { openCatalog } from "../../src/store/db.js";
import { runProcess } from "../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURE = join(ROOT, "test/fixtures/drift/notes-server.mjs");
const ENTRY = join(ROOT, "test/fixtures/drift/cli.ts");
const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");

// Runs from the checkout so the sandbox shows the fixture its node_modules; every path passed is absolute.
function cli(args: string[], cwd = ROOT) {
  return runProcess(process.execPath, [TSX, ENTRY, ...args], {
    cwd,
    env: { ...process.env, MCP_CENSUS_LOG_LEVEL: "warn", MCP_CENSUS_ALLOW_UNSANDBOXED: "1" },
    timeoutMs: 90_000,
  });
}

describe("pin / verify / changes commands", () => {
  let dir: string;
  let db: string;
  let variantFile: string;
  let command: string;
  let lockPath: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "mcp-census-history-cli-"));
    db = join(dir, "catalog.db");
    variantFile = join(dir, "variant");
    lockPath = join(dir, "mcp-census.lock.json");
    writeFileSync(variantFile, "v1");
    command = `${process.execPath} ${FIXTURE} --variant-file ${variantFile}`;
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("pins a probed server, then verify passes, and fails with a diff after the rug pull", async () => {
    const probed = await cli(["--db", db, "probe", "--command", command]);
    expect(probed.stderr).toBe("");
    expect(probed.code).toBe(0);

    const pinned = await cli(["--db", db, "pin", `local:${command}`, "--lock", lockPath]);
    expect(pinned.code).toBe(0);
    expect(pinned.stdout).toContain("3 tools pinned");
    const lockText = readFileSync(lockPath, "utf8");
    // Deterministic: pinning again writes the same bytes.
    await cli(["--db", db, "pin", `local:${command}`, "--lock", lockPath]);
    expect(readFileSync(lockPath, "utf8")).toBe(lockText);

    const same = await cli(["--db", db, "verify", "--lock", lockPath]);
    expect(same.stdout).toContain("ok (3 tools match the lock)");
    expect(same.code).toBe(0);

    writeFileSync(variantFile, "v2");
    const drift = await cli(["--db", db, "verify", "--lock", lockPath]);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain("DRIFT — 3 tools differ");
    expect(drift.stdout).toMatch(/~ search_notes {2}\[high\] description gained/);
    expect(drift.stdout).toContain("+<IMPORTANT>Before using this tool");
    expect(drift.stdout).toMatch(/\+ command \(string\): "Shell command to run after the export finishes"/);
    expect(drift.stdout).toContain("~ readOnlyHint: true → false");

    const json = await cli(["--db", db, "--json", "verify", "--lock", lockPath]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { ok: boolean; servers: { drift: unknown[] }[] };
    expect(report.ok).toBe(false);
    expect(report.servers[0]?.drift).toHaveLength(3);
  });

  it("verify with a missing or broken lock file is one clear line and a non-zero exit", async () => {
    const missing = await cli(["--db", db, "verify", "--lock", join(dir, "nope.json")]);
    expect(missing.code).toBe(3);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    writeFileSync(join(dir, "bad.json"), "{ nope");
    const bad = await cli(["--db", db, "verify", "--lock", join(dir, "bad.json")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not valid JSON/);
  });

  it("`changes` lists recorded changes with filters, as text and JSON, with terminal escapes neutralised", async () => {
    const feedDb = join(dir, "feed.db");
    const cat = openCatalog(feedDb);
    const sid = upsertSourceEntry(cat.sqlite, {
      sourceId: "seed",
      sourceKey: "feed",
      entry: { name: "io.github.example/feed", packages: [], remotes: [] },
      raw: {},
    }).serverId;
    const listing = (tools: RawTool[]): ProbeResult => ({
      ...emptyProbeResult("ok", "stdio"),
      startedAt: new Date().toISOString(),
      durationMs: 5,
      tools,
    });
    const schema = { type: "object", properties: { id: { type: "string" } } };
    recordChanges(
      cat.sqlite,
      sid,
      ingestProbe(
        cat.sqlite,
        sid,
        listing([{ name: "get_item", description: "Retreive an item by id.", inputSchema: schema }]),
      ),
    );
    recordChanges(
      cat.sqlite,
      sid,
      ingestProbe(
        cat.sqlite,
        sid,
        listing([
          { name: "get_item", description: "Retrieve an item by id.", inputSchema: schema },
          { name: "evil\u001b[2Jtool", description: "New tool", inputSchema: schema },
        ]),
      ),
    );
    cat.close();

    const all = await cli(["--db", feedDb, "changes"]);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(all.stdout).not.toContain("\u001b");
    expect(all.stdout).toContain("evil\\u{1b}[2Jtool");
    expect(all.stdout).toMatch(
      /LOW\s+io\.github\.example\/feed › get_item {2}description changed: description typo fix/,
    );

    const medium = await cli(["--db", feedDb, "--json", "changes", "--severity", "medium"]);
    const page = JSON.parse(medium.stdout) as { items: { toolName: string; kind: string }[]; nextCursor: null };
    expect(page.items.map((i) => i.kind)).toEqual(["tool_added"]);

    const bad = await cli(["--db", feedDb, "changes", "--since", "yesterday-ish"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since must be/);
  });
});
