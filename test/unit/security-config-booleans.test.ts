/**
 * Issue 17 item 2: `"allowUnsandboxed": "false"` in a config file turned the switch ON (z.coerce.boolean).
 * Booleans are parsed strictly in every layer: file, environment, flags; anything else is a config error naming the key.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/core/config.js";
import { AppError } from "../../src/core/errors.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/tmp.js";

const SWITCHES = ["allowUnsandboxed", "allowPrivateNetwork", "allowInstallScripts"] as const;
const ENV = {
  allowUnsandboxed: "MCP_CENSUS_ALLOW_UNSANDBOXED",
  allowPrivateNetwork: "MCP_CENSUS_ALLOW_PRIVATE_NETWORK",
  allowInstallScripts: "MCP_CENSUS_ALLOW_INSTALL_SCRIPTS",
} as const;

function fromFile(dir: string, body: unknown) {
  writeFileSync(join(dir, "c.json"), JSON.stringify(body));
  return loadConfig({}, { configFile: "c.json", cwd: dir, env: {} });
}

describe("safety switches parse strictly (issue 17 item 2)", () => {
  it('a config file\'s "false", "0", "no", "off" keep every switch off', () => {
    const t = tempDir();
    try {
      for (const key of SWITCHES) {
        for (const off of ["false", "0", "no", "off", "FALSE", false, 0]) {
          expect(fromFile(t.dir, { [key]: off })[key], `${key}=${JSON.stringify(off)}`).toBe(false);
        }
        for (const on of ["true", "1", "yes", "on", true, 1]) {
          expect(fromFile(t.dir, { [key]: on })[key], `${key}=${JSON.stringify(on)}`).toBe(true);
        }
      }
    } finally {
      t.cleanup();
    }
  });

  it("a non-boolean in a file is a config error naming the key", () => {
    const t = tempDir();
    try {
      for (const key of SWITCHES) {
        for (const bad of ["maybe", "", "disabled", 2, [], {}, null]) {
          let err: unknown;
          try {
            fromFile(t.dir, { [key]: bad });
          } catch (e) {
            err = e;
          }
          expect(err, `${key}=${JSON.stringify(bad)}`).toBeInstanceOf(AppError);
          expect((err as AppError).code).toBe("config_invalid");
          expect((err as AppError).message).toContain(key);
        }
      }
    } finally {
      t.cleanup();
    }
  });

  it("the environment layer: off words are off, other words are a config error naming the key", () => {
    for (const key of SWITCHES) {
      for (const off of ["false", "0", "no", "off"]) {
        expect(loadConfig({}, { env: { [ENV[key]]: off }, cwd: "/nonexistent" })[key]).toBe(false);
      }
      expect(loadConfig({}, { env: { [ENV[key]]: "on" }, cwd: "/nonexistent" })[key]).toBe(true);
      // Before: any unknown word silently meant "off" — now it is an error the user sees.
      expect(() => loadConfig({}, { env: { [ENV[key]]: "ture" }, cwd: "/nonexistent" })).toThrow(
        new RegExp(`invalid setting ${key}`),
      );
    }
  });

  it("the flag layer: --allow-unsandboxed=false is refused, never read as on", async () => {
    const r = await runCli(["probe", "npm:nonexistent-pkg-for-test", "--allow-unsandboxed=false"], {
      timeoutMs: 60_000,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown option '--allow-unsandboxed=false'/);
  });

  it("the real CLI refuses a config file with a non-boolean switch, in one line naming it", async () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, "mcp-census.config.json"), JSON.stringify({ allowUnsandboxed: "nah" }));
      const r = await runCli(["stats"], { cwd: t.dir, timeoutMs: 60_000 });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/allowUnsandboxed/);
    } finally {
      t.cleanup();
    }
  });
});
