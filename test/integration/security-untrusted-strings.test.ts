import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, type ResolvedConfig } from "../../src/core/config.js";
import { createCatalogClassifier } from "../../src/pipeline/classifier.js";
import { runCrawl } from "../../src/pipeline/crawl.js";
import { createProgress } from "../../src/pipeline/progress.js";
import { openCatalog } from "../../src/store/db.js";
import { ROOT, runCli } from "../helpers/cli.js";
import { npmSeedEntry, writeSeeds } from "../helpers/seeds.js";
import { writeStdioPackage } from "../helpers/stdio-package.js";
import { tempDir } from "../helpers/tmp.js";

function fakePackage(nm: string, name: string, names: string[]): void {
  writeStdioPackage(
    join(nm, name),
    name,
    names.map((n) => ({ name: n, description: `Get one item ${n}` })),
  );
}

let t: ReturnType<typeof tempDir>;
let config: ResolvedConfig;

beforeAll(() => {
  t = tempDir("mcp-census-strings-");
  const nm = join(t.dir, "node_modules");
  // JSON.stringify writes a lone surrogate as the escape \ud800, exactly as a hostile server sends it on the wire.
  fakePackage(nm, "lone-surrogate-mcp", ["get_item\ud800", "list_items"]);
  fakePackage(nm, "decomposed-mcp", ["cafe\u0301_menu"]);
  fakePackage(nm, "refused-mcp", ["refuse_me", "fine_tool"]);
  fakePackage(nm, "plain-mcp", ["read_note"]);
  writeSeeds(join(t.dir, "seeds"), [
    npmSeedEntry("io.github.example/lone-surrogate", "lone-surrogate-mcp"),
    npmSeedEntry("io.github.example/decomposed", "decomposed-mcp"),
    npmSeedEntry("io.github.example/refused", "refused-mcp"),
    npmSeedEntry("io.github.example/plain", "plain-mcp"),
  ]);
  config = loadConfig(
    {
      dataDir: join(t.dir, "data"),
      seedsDir: join(t.dir, "seeds"),
      resolveFrom: [nm, join(ROOT, "node_modules")],
      concurrency: 2,
    },
    { env: {}, cwd: t.dir },
  );
});
afterAll(() => t.cleanup());

// Every crawl relaunches the servers (an unchanged package's listing would otherwise be reused).
async function crawlOnce() {
  const cat = openCatalog(config.dbPath);
  try {
    const classifier = createCatalogClassifier(cat.sqlite, config, { llm: false });
    return await runCrawl(
      cat,
      config,
      classifier,
      { outputs: false, reprobe: true },
      createProgress(process.stderr, true),
    );
  } finally {
    cat.close();
  }
}

describe("untrusted strings cannot stop the crawl (issue 17 item 3)", () => {
  it("a lone surrogate in a tool name: every crawl succeeds and the name is stored well-formed", async () => {
    const first = await crawlOnce();
    expect(first.outcomes.ok).toBe(4);
    const second = await crawlOnce();
    expect(second.outcomes.ok).toBe(4);
    expect(second.toolsAdded + second.toolsChanged + second.toolsRemoved).toBe(0);
    const third = await crawlOnce();
    expect(third.outcomes.ok).toBe(4);

    const cat = openCatalog(config.dbPath);
    try {
      const names = (cat.sqlite.prepare("SELECT name FROM tools ORDER BY name").all() as { name: string }[]).map(
        (r) => r.name,
      );
      expect(names).toContain("get_item\ufffd");
      expect(names).toContain("caf\u00e9_menu"); // NFC
      expect(names).not.toContain("cafe\u0301_menu");
      // One version per tool: the normalised name hashes the same on every crawl.
      const versions = cat.sqlite.prepare("SELECT count(*) AS n FROM tool_versions").get() as { n: number };
      expect(versions.n).toBe(names.length);
      // Every server was updated by the last crawl, not only those before the bad one.
      const runs = cat.sqlite.prepare("SELECT status FROM crawl_runs ORDER BY id").all() as { status: string }[];
      expect(runs.map((r) => r.status)).toEqual(["done", "done", "done"]);
    } finally {
      cat.close();
    }
  }, 240_000);

  it("a listing the catalog refuses is that server's outcome; the other servers are still stored", async () => {
    // A real SQLite refusal for one server's data (a trigger, as a CHECK or size limit would).
    const cat = openCatalog(config.dbPath);
    cat.sqlite.exec(
      "CREATE TRIGGER refuse_tool BEFORE UPDATE ON tools WHEN NEW.name = 'refuse_me' BEGIN SELECT RAISE(ABORT, 'refused by the catalog'); END",
    );
    cat.sqlite.exec("UPDATE tools SET last_seen = '2000-01-01' WHERE name = 'read_note'");
    cat.close();
    const run = await crawlOnce();
    expect(run.outcomes.ok).toBe(3);
    expect(run.failures).toEqual([
      expect.objectContaining({
        server: "io.github.example/refused",
        error: expect.stringMatching(/refused by the catalog/),
      }),
    ]);
    const after = openCatalog(config.dbPath);
    try {
      const plain = after.sqlite.prepare("SELECT last_seen FROM tools WHERE name = 'read_note'").get() as {
        last_seen: string;
      };
      expect(plain.last_seen > "2000-01-01").toBe(true);
      const status = after.sqlite.prepare("SELECT status FROM crawl_runs ORDER BY id DESC LIMIT 1").get() as {
        status: string;
      };
      expect(status.status).toBe("done");
      // The refused server keeps its earlier tools (a failed probe is not "all removed").
      const kept = after.sqlite
        .prepare("SELECT count(*) AS n FROM tools WHERE name IN ('refuse_me','fine_tool') AND removed_at IS NULL")
        .get() as { n: number };
      expect(kept.n).toBe(2);
    } finally {
      after.close();
    }
  }, 240_000);

  it("probe --store: a listing the catalog refuses is that server's stored outcome, one line, exit 1", async () => {
    // The refuse_me trigger from the test above is still in the catalog.
    const r = await runCli(["probe", "io.github.example/refused"], {
      cwd: t.dir,
      env: {
        MCP_CENSUS_DATA_DIR: config.dataDir,
        MCP_CENSUS_SEEDS_DIR: config.seedsDir,
        MCP_CENSUS_RESOLVE_FROM: config.resolveFrom.join(","),
      },
    });
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^io\.github\.example\/refused: protocol_error — could not store the listing: .*refused by the catalog/m,
    );
    const cat = openCatalog(config.dbPath);
    try {
      const last = cat.sqlite
        .prepare(
          "SELECT p.outcome, p.error FROM probes p JOIN servers s ON s.id = p.server_id WHERE s.name = ? ORDER BY p.id DESC LIMIT 1",
        )
        .get("io.github.example/refused") as { outcome: string; error: string };
      expect(last.outcome).toBe("protocol_error");
      expect(last.error).toMatch(/refused by the catalog/);
    } finally {
      cat.close();
    }
  }, 120_000);
});
