import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/core/config.js";
import { AppError } from "../../src/core/errors.js";
import { tempDir } from "../helpers/tmp.js";

describe("config", () => {
  it("layers defaults < file < environment < overrides", () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, "c.json"), JSON.stringify({ concurrency: 2, llmModel: "from-file", dataDir: "d" }));
      const c = loadConfig(
        { llmModel: "from-flag" },
        { configFile: "c.json", cwd: t.dir, env: { MCP_CENSUS_CONCURRENCY: "7", MCP_CENSUS_ALLOW_UNSANDBOXED: "yes" } },
      );
      expect(c.concurrency).toBe(7);
      expect(c.llmModel).toBe("from-flag");
      expect(c.allowUnsandboxed).toBe(true);
      expect(c.dbPath).toBe(join(t.dir, "d", "catalog.db"));
    } finally {
      t.cleanup();
    }
  });

  it("names the bad setting in one line", () => {
    expect(() => loadConfig({}, { env: { MCP_CENSUS_CONCURRENCY: "lots" } })).toThrow(/invalid setting concurrency/);
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, "bad.json"), "{ nope");
      expect(() => loadConfig({}, { configFile: "bad.json", cwd: t.dir, env: {} })).toThrow(AppError);
      writeFileSync(join(t.dir, "unknown.json"), JSON.stringify({ concurency: 3 }));
      expect(() => loadConfig({}, { configFile: "unknown.json", cwd: t.dir, env: {} })).toThrow(
        /concurency|Unrecognized/,
      );
    } finally {
      t.cleanup();
    }
  });
});
