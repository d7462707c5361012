/**
 * Issue 17 item 11: `install` passed the whole environment (OpenAI key, webhook secret, Redis URL) to npm. npm now
 * gets only what it needs. A real child process (a stand-in npm first on PATH) records the environment it received.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveVersion } from "../../src/mcp/npm-install.js";
import { ROOT } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

describe("npm runs with only the environment it needs", () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it("secrets in our environment do not reach npm", async () => {
    const out = join(t.dir, "env.txt");
    const saved = { ...process.env };
    try {
      // npm_config_* is npm's own configuration: the recording path travels that way, as npm settings would.
      process.env.npm_config_fake_env_out = out;
      process.env.FAKE_NPM_ENV_OUT = out;
      process.env.PATH = `${join(ROOT, "test", "fixtures", "security", "fake-npm")}:${process.env.PATH}`;
      process.env.OPENAI_API_KEY = "sk-test-secret";
      process.env.MCP_CENSUS_WEBHOOK_SECRET = "webhook-secret-0123456789";
      process.env.REDIS_URL = "redis://:pw@127.0.0.1:6379";
      expect(await resolveVersion("some-package-for-env-test", "latest", 10_000)).toBe("1.0.0");
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
    const env = readFileSync(out, "utf8");
    expect(env).toMatch(/^PATH=/m);
    expect(env).not.toMatch(/OPENAI_API_KEY|sk-test-secret|WEBHOOK_SECRET|REDIS_URL/);
  });
});
