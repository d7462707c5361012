import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openCatalog } from "../../src/store/db.js";
import { ROOT, runCli } from "../helpers/cli.js";
import { npmSeedEntry, writeSeeds } from "../helpers/seeds.js";
import { writeStdioPackage } from "../helpers/stdio-package.js";
import { tempDir } from "../helpers/tmp.js";

const TOOLS = ["sync_items", "process_queue", "handle_event", "manage_entries", "run_task", "update_state"];

/** Every tool of the catalog kept the heuristics' verdict, flagged unsure (and, when given, says why in its signals). */
function expectHeuristicsKept(dbPath: string, signal?: RegExp): void {
  const cat = openCatalog(dbPath, { readonly: true });
  try {
    const rows = cat.sqlite
      .prepare("SELECT c.source, c.flags, c.signals FROM tools t JOIN classifications c ON c.hash = t.hash")
      .all() as { source: string; flags: string; signals: string }[];
    expect(rows).toHaveLength(TOOLS.length);
    for (const row of rows) {
      expect(row.source).toBe("heuristic");
      expect(JSON.parse(row.flags)).toContain("unsure");
      if (signal) expect(row.signals).toMatch(signal);
    }
  } finally {
    cat.close();
  }
}

let t: ReturnType<typeof tempDir>;
let llm: Server;
let llmUrl: string;
let requests = 0;

beforeAll(async () => {
  t = tempDir("mcp-census-llmbudget-");
  const dir = join(t.dir, "node_modules", "vague-tools-mcp");
  writeStdioPackage(
    dir,
    "vague-tools-mcp",
    TOOLS.map((name) => ({
      name,
      description: "Handles it.",
      inputSchema: { type: "object", properties: { target: { type: "string" } } },
    })),
  );
  writeSeeds(join(t.dir, "seeds"), [npmSeedEntry("io.github.example/vague-tools", "vague-tools-mcp")]);
  // An LLM endpoint that accepts every request and never answers.
  llm = createServer((req) => {
    requests++;
    req.resume();
  });
  await new Promise<void>((r) => llm.listen(0, "127.0.0.1", r));
  llmUrl = `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  llm.closeAllConnections();
  await new Promise<void>((r) => llm.close(() => r()));
  t.cleanup();
});

describe("an overall LLM time budget (issue 17 item 11)", () => {
  it("a hanging endpoint costs the budget, not 3 × 30 s per tool; the rest stay heuristic and unsure", async () => {
    const t0 = Date.now();
    const r = await runCli(["crawl", "--no-outputs"], {
      cwd: t.dir,
      timeoutMs: 150_000,
      env: {
        MCP_CENSUS_DATA_DIR: join(t.dir, "data"),
        MCP_CENSUS_SEEDS_DIR: join(t.dir, "seeds"),
        MCP_CENSUS_RESOLVE_FROM: `${join(t.dir, "node_modules")},${join(ROOT, "node_modules")}`,
        OPENAI_API_KEY: "sk-test",
        OPENAI_BASE_URL: llmUrl,
        MCP_CENSUS_LLM_THRESHOLD: "1",
        MCP_CENSUS_LLM_TIME_BUDGET_MS: "3000",
      },
    });
    const elapsed = Date.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 probed \(ok 1\), 6 tools listed/);
    // One request, cut at the deadline; none after it (3 × 30 s per tool before).
    expect(requests).toBe(1);
    expect(elapsed).toBeLessThan(60_000);
    const warnings = r.stderr.split("\n").filter((l) => /LLM time budget/.test(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /LLM time budget of 3 s used up: the remaining unsure tools keep the heuristics' verdict, flagged unsure/,
    );

    expectHeuristicsKept(join(t.dir, "data", "catalog.db"), /LLM not used: LLM time budget used up/);
  }, 180_000);
});

describe("the LLM time budget in a distributed crawl (issue 17 item 11)", () => {
  it("classify workers stop asking a hanging endpoint once a run's budget is spent", async () => {
    const { startRedis, spawnWorker, startCli, stopWorker } = await import("../fixtures/jobs/harness.js");
    const redis = await startRedis();
    const before = requests;
    const shared = { REDIS_URL: redis.url, MCP_CENSUS_QUEUE_PREFIX: "t-llm-budget" };
    const worker = spawnWorker(
      {
        ...shared,
        MCP_CENSUS_DATA_DIR: join(t.dir, "worker"),
        MCP_CENSUS_RESOLVE_FROM: `${join(t.dir, "node_modules")},${join(ROOT, "node_modules")}`,
        OPENAI_API_KEY: "sk-test",
        OPENAI_BASE_URL: llmUrl,
        MCP_CENSUS_LLM_THRESHOLD: "1",
        MCP_CENSUS_LLM_TIME_BUDGET_MS: "3000",
        MCP_CENSUS_LOG_LEVEL: "warn",
      },
      ["--lock-duration", "2000", "--stalled-interval", "1000", "--queues", "probe,classify"],
    );
    try {
      const t0 = Date.now();
      const r = await startCli(
        ["crawl", "--distributed", "--no-outputs"],
        {
          ...shared,
          MCP_CENSUS_DATA_DIR: join(t.dir, "distributed"),
          MCP_CENSUS_SEEDS_DIR: join(t.dir, "seeds"),
          OPENAI_API_KEY: "",
        },
        150_000,
      ).done;
      const elapsed = Date.now() - t0;
      expect(r.code, r.stderr).toBe(0);
      // One request (one tool at a time per job), cut at the deadline; one attempt × 30 s per tool before.
      expect(requests - before).toBe(1);
      expect(elapsed).toBeLessThan(60_000);
      const warnings = worker
        .output()
        .split("\n")
        .filter((l) => /LLM time budget/.test(l));
      expect(warnings, worker.output()).toHaveLength(1);

      expectHeuristicsKept(join(t.dir, "distributed", "catalog.db"));
    } finally {
      await stopWorker(worker, 2_000);
      await redis.stop();
    }
  }, 240_000);
});
