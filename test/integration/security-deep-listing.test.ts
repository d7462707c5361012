/**
 * Issue 17 item 11 found a seed nested 20,000 levels deep overflowing the stack; a server's answers can nest as deep.
 * A tool whose inputSchema nested 20,000 levels made the probe end `internal_error` "(not the server's fault):
 * Maximum call stack size exceeded" and lost the server's other tools. Now a field nested deeper than untrusted JSON
 * may be is replaced by a note with a warning (as an oversized one is), the rest of the listing is kept and stored,
 * and an initialize answer that deep is the server's protocol error. Real child processes under bubblewrap, the real
 * CLI, a real SQLite catalog.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../src/core/json.js";
import type { ProbeResult } from "../../src/core/types.js";
import { ingestServer } from "../../src/pipeline/stages.js";
import { upsertSourceEntry } from "../../src/store/catalog.js";
import { openCatalog } from "../../src/store/db.js";
import { runCli } from "../helpers/cli.js";
import { probeFixtureServer } from "../helpers/probe-fixture.js";
import { tempDir } from "../helpers/tmp.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/servers/deep-nesting.mjs", import.meta.url));

function probeDeep(where: string): Promise<ProbeResult> {
  return probeFixtureServer(FIXTURE, { DEEP_IN: where }, "mcp-census-deep-cache");
}

const NOTE = { "x-mcp-census-truncated": { nestedDeeperThan: MAX_JSON_DEPTH } };

describe("answers nested 20,000 levels deep (issue 17 item 11)", () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it("a tool's inputSchema: replaced by a note with a warning, every tool kept", async () => {
    const r = await probeDeep("tool");
    expect(r.outcome, r.error).toBe("ok");
    expect(r.launch.sandbox).toBe("bwrap");
    expect(r.tools.map((x) => x.name)).toEqual(["deep_schema", "read_note"]);
    expect(r.tools[0]!.inputSchema).toEqual(NOTE);
    expect(r.warnings).toContain(
      `tool "deep_schema" inputSchema is nested more than ${MAX_JSON_DEPTH} levels deep; replaced by a note`,
    );

    // Stored like any listing, with its change events.
    const cat = openCatalog(join(t.dir, "deep.db"));
    try {
      const { serverId } = upsertSourceEntry(cat.sqlite, {
        sourceId: "seed",
        sourceKey: "io.github.example/deep",
        entry: { name: "io.github.example/deep", packages: [], remotes: [] },
        raw: {},
      });
      const stored = ingestServer(cat.sqlite, serverId, r);
      expect(stored.result.outcome, stored.result.error).toBe("ok");
      expect(cat.sqlite.prepare("SELECT name FROM tools ORDER BY name").pluck().all()).toEqual([
        "deep_schema",
        "read_note",
      ]);
    } finally {
      cat.close();
    }
  }, 60_000);

  it("a prompt's arguments: replaced by a note with a warning", async () => {
    const r = await probeDeep("prompt");
    expect(r.outcome, r.error).toBe("ok");
    expect(r.prompts).toEqual([{ name: "summarise", arguments: NOTE }]);
    expect(r.warnings.some((w) => /prompt #0 arguments is nested more than \d+ levels deep/.test(w))).toBe(true);
  }, 60_000);

  it("the initialize answer: the server's protocol error, in one line", async () => {
    const r = await probeDeep("init");
    expect(r.outcome).toBe("protocol_error");
    expect(r.error).toBe(`initialize answer is nested more than ${MAX_JSON_DEPTH} levels deep`);
  }, 60_000);

  it("the real CLI probes such a server: exit 0, both tools listed, no stack trace", async () => {
    const data = join(t.dir, "data");
    const r = await runCli(["probe", "--command", `${process.execPath} ${FIXTURE}`], {
      env: { MCP_CENSUS_DATA_DIR: data, DEEP_IN: "tool" },
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 tools/);
    expect(r.stdout + r.stderr).not.toMatch(/internal error|Maximum call stack|^\s+at /m);
  }, 150_000);
});
