import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { explainConfig, maskedValue } from "../../src/core/config.js";
import { createLogger } from "../../src/core/log.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

describe("where each setting came from", () => {
  it("names default, file, env and flag", () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, "c.json"), JSON.stringify({ concurrency: 2, llmModel: "from-file", dataDir: "d" }));
      const { config, sources, file } = explainConfig(
        { llmModel: "from-flag" },
        { configFile: "c.json", cwd: t.dir, env: { MCP_CENSUS_PROBE_TIMEOUT_MS: "5000" } },
      );
      expect(file).toBe(join(t.dir, "c.json"));
      expect(config.llmModel).toBe("from-flag");
      expect(sources.llmModel).toBe("flag");
      expect(sources.probeTimeoutMs).toBe("env");
      expect(sources.concurrency).toBe("file");
      expect(sources.dataDir).toBe("file");
      expect(sources.queuePrefix).toBe("default");
      expect(sources.llmApiKey).toBe("default"); // unset settings are listed too
    } finally {
      t.cleanup();
    }
  });

  it("reports every invalid setting, not only the first", () => {
    expect(() =>
      explainConfig(
        { logLevel: "loud" as never },
        { env: { MCP_CENSUS_CONCURRENCY: "lots", MCP_CENSUS_ALLOW_UNSANDBOXED: "maybe" } },
      ),
    ).toThrow(/3 invalid settings: .*concurrency.*allowUnsandboxed.*logLevel/);
  });

  it("masks secrets", () => {
    expect(maskedValue("llmApiKey", "sk-live-abc")).toBe("********");
    expect(maskedValue("webhookSecret", "0123456789abcdef")).toBe("********");
    expect(maskedValue("redisUrl", "redis://user:hunter2@redis:6379/0")).toBe("redis://user:********@redis:6379/0");
    expect(maskedValue("webhookUrls", ["https://hooks.example/x?token=abc"])).toEqual([
      "https://hooks.example/x?********",
    ]);
    expect(maskedValue("llmApiKey", undefined)).toBeUndefined();
    expect(maskedValue("concurrency", 4)).toBe(4);
  });

  it("mcp-census config prints them, secrets masked", async () => {
    const t = tempDir();
    try {
      const env = { OPENAI_API_KEY: "sk-should-not-appear", MCP_CENSUS_DATA_DIR: t.dir };
      const r = await runCli(["config", "--json", "--log-format", "json"], { env, cwd: t.dir });
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain("sk-should-not-appear");
      const out = JSON.parse(r.stdout);
      expect(out.settings.llmApiKey).toEqual({ value: "********", source: "env", env: "OPENAI_API_KEY" });
      expect(out.settings.logFormat.source).toBe("flag");
      expect(out.settings.dataDir).toMatchObject({ value: t.dir, source: "env" });
      const text = await runCli(["config"], { env, cwd: t.dir });
      expect(text.stdout).toMatch(/^llmApiKey\s+\*{8}\s+\(env OPENAI_API_KEY\)$/m);
      const bad = await runCli(["config"], { env: { MCP_CENSUS_CONCURRENCY: "0", MCP_CENSUS_LOG_FORMAT: "xml" } });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^mcp-census: 2 invalid settings: concurrency: .*; logFormat: .*$/m);
    } finally {
      t.cleanup();
    }
  });
});

describe("logs", () => {
  const capture = () => {
    const lines: string[] = [];
    return { lines, sink: { write: (l: string) => lines.push(l) } };
  };

  it("logLevel decides what is written", () => {
    const c = capture();
    const log = createLogger({ level: "warn", sink: c.sink });
    log.info("not shown");
    log.debug("not shown either");
    log.warn("careful");
    log.error("broken");
    expect(c.lines).toEqual(["warning: careful\n", "error: broken\n"]);
    const quiet = capture();
    createLogger({ level: "silent", sink: quiet.sink }).error("nothing");
    expect(quiet.lines).toEqual([]);
  });

  it("writes plain lines as text and one JSON object per line as json", () => {
    const text = capture();
    createLogger({ format: "text", sink: text.sink }).info("worker 1: working on probe");
    expect(text.lines).toEqual(["worker 1: working on probe\n"]);
    const json = capture();
    createLogger({ format: "json", level: "debug", sink: json.sink }).debug({ path: "/v1/x" }, "api: GET /v1/x");
    expect(json.lines).toHaveLength(1);
    const o = JSON.parse(json.lines[0]!);
    expect(o).toMatchObject({ level: 20, msg: "api: GET /v1/x", path: "/v1/x", pid: process.pid });
    expect(typeof o.time).toBe("number");
  });
});
