import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { redactor } from "../../src/pipeline/scan.js";
import {
  clientFromPath,
  clientFromShape,
  configFiles,
  ENV_PLACEHOLDER,
  parseJsonc,
  readClientConfig,
} from "../../src/policy/client-config.js";
import { tempDir } from "../fixtures/configs/policy-test-kit.js";

describe("client configs", () => {
  it("detects the client from the path, then from the shape", () => {
    expect(clientFromPath("/h/Library/Application Support/Claude/claude_desktop_config.json")).toBe("claude-desktop");
    expect(clientFromPath("/h/.claude.json")).toBe("claude-code");
    expect(clientFromPath("/p/.mcp.json")).toBe("claude-code");
    expect(clientFromPath("/p/.cursor/mcp.json")).toBe("cursor");
    expect(clientFromPath("/p/.vscode/mcp.json")).toBe("vscode");
    expect(clientFromPath("/h/.codeium/windsurf/mcp_config.json")).toBe("windsurf");
    expect(clientFromPath("/tmp/anything.json")).toBeUndefined();
    expect(clientFromShape({ servers: {} })).toBe("vscode");
    expect(clientFromShape({ mcpServers: { a: { serverUrl: "https://x" } } })).toBe("windsurf");
    expect(clientFromShape({ mcpServers: { a: { type: "http", url: "https://x" } } })).toBe("claude-code");
    expect(clientFromShape({ projects: {} })).toBe("claude-code");
    expect(clientFromShape({ mcpServers: { a: { command: "x" } } })).toBe("claude-desktop");
    expect(clientFromShape({ profiles: {} })).toBeUndefined();
    expect(clientFromShape([1])).toBeUndefined();
  });

  it("parses JSONC without touching strings that look like comments", () => {
    expect(parseJsonc('{ // c\n "a": "http://x/*y*/", /* b */ "b": [1,2,], }')).toEqual({
      a: "http://x/*y*/",
      b: [1, 2],
    });
    expect(parseJsonc('{"a": "q\\"//"}')).toEqual({ a: 'q"//' });
  });

  it("reads stdio and remote servers; credentials get placeholders and are listed for redaction", () => {
    const d = tempDir();
    const f = join(d, ".claude.json");
    writeFileSync(
      f,
      JSON.stringify({
        mcpServers: {
          gh: {
            type: "stdio",
            command: "npx",
            args: ["-y", "srv", "--api-key=abcd1234"],
            env: { GITHUB_TOKEN: "ghp_x1y2z3", HOME_DIR: "/x/y" },
          },
          web: { type: "http", url: "https://example.com/mcp", headers: { Authorization: "Bearer tok_999" } },
          off: { command: "x", disabled: true },
        },
        projects: { "/p": { mcpServers: { proj: { command: "node", args: ["s.mjs"] } } } },
      }),
    );
    const r = readClientConfig(f);
    expect(r.client).toBe("claude-code");
    expect(r.problems).toEqual([]);
    expect(r.servers.map((s) => s.name)).toEqual(["gh", "web", "proj"]);
    const gh = r.servers[0]!;
    expect(gh.target).toMatchObject({
      kind: "command",
      command: "npx",
      env: { GITHUB_TOKEN: ENV_PLACEHOLDER, HOME_DIR: "/x/y" },
    });
    expect(gh.placeholders).toEqual(["GITHUB_TOKEN"]);
    expect(gh.secrets).toEqual(expect.arrayContaining(["ghp_x1y2z3", "/x/y", "abcd1234"]));
    const web = r.servers[1]!;
    expect(web.target).toEqual({ kind: "remote", remote: { type: "streamable-http", url: "https://example.com/mcp" } });
    expect(JSON.stringify(web.target)).not.toContain("tok_999");
    expect(web.secrets).toContain("Bearer tok_999");
  });

  it("reports malformed files, unknown shapes and bad entries without throwing", () => {
    const d = tempDir();
    writeFileSync(join(d, "bad.json"), "{ nope");
    writeFileSync(join(d, "odd.json"), '{"x": 1}');
    writeFileSync(
      join(d, "entries.json"),
      JSON.stringify({ mcpServers: { a: 5, b: { args: [] }, c: { command: "x", args: [1] } } }),
    );
    expect(readClientConfig(join(d, "bad.json")).problems[0]!.message).toMatch(/^malformed config: /);
    expect(readClientConfig(join(d, "odd.json")).problems[0]!.message).toMatch(/^unknown MCP client config/);
    const e = readClientConfig(join(d, "entries.json"));
    expect(e.servers).toEqual([]);
    expect(e.problems.map((p) => `${p.server}: ${p.message}`)).toEqual([
      "a: entry is not an object",
      "b: has neither a command nor a url",
      "c: args must all be strings",
    ]);
  });

  it("finds existing known locations only", () => {
    const home = tempDir();
    const cwd = tempDir();
    mkdirSync(join(home, ".cursor"));
    writeFileSync(join(home, ".cursor", "mcp.json"), "{}");
    writeFileSync(join(cwd, ".mcp.json"), "{}");
    expect(configFiles([], cwd, home)).toEqual([join(cwd, ".mcp.json"), join(home, ".cursor", "mcp.json")]);
    expect(configFiles(["/given.json"], cwd, home)).toEqual(["/given.json"]);
  });

  it("redacts every secret, longest first", () => {
    const r = redactor(["abcd", "abcdef", "xy"]);
    expect(r("k=abcdef; j=abcd; xy")).toBe("k=[redacted]; j=[redacted]; xy");
  });
});
