import { describe, expect, it } from "vitest";
import {
  canonicalKeys,
  capRaw,
  cleanName,
  finaliseEntry,
  normaliseOfficialItem,
  parseAwesomeReadme,
  parseJsonText,
} from "../../src/registries/index.js";

describe("name cleaning", () => {
  it("removes control, zero-width and bidi characters and says so", () => {
    expect(cleanName("io.github.a/\u0000b\u200Bc\u202Ed")).toEqual({
      name: "io.github.a/bcd",
      note: 'control characters removed from name "io.github.a/bcd"',
    });
    expect(cleanName("plain")).toEqual({ name: "plain", note: undefined });
  });
  it("rejects markup, empty and over-long names", () => {
    expect(cleanName("<script>x</script>").reject).toMatch(/markup/);
    expect(cleanName("a&lt;b").reject).toMatch(/markup/);
    expect(cleanName("\u0000\u0001").reject).toBe("name is empty");
    expect(cleanName("x".repeat(301)).reject).toMatch(/301 characters/);
    expect(cleanName(42).reject).toMatch(/missing/);
  });
});

describe("JSON and payload limits", () => {
  it("reports line and column of malformed JSON", () => {
    expect(() => parseJsonText('{\n  "a": 1\n  "b": 2\n}', "f.json")).toThrow(
      "f.json: invalid JSON at line 3, column 3: Expected ',' or '}' after property value",
    );
    expect(() => parseJsonText('{"a": [1, 2', "f.json")).toThrow(/line 1, column 12: Expected ',' or ']'/);
    expect(() => parseJsonText('{"a":\n', "f.json")).toThrow(/line 2, column 1: unexpected end of input/);
  });
  it("caps long strings in raw payloads, deep inside", () => {
    const raw = capRaw({ a: [{ b: "x".repeat(100_000) }], n: 1 }) as { a: { b: string }[]; n: number };
    expect(raw.a[0]!.b.length).toBeLessThan(9000);
    expect(raw.a[0]!.b).toMatch(/…\[truncated 100000 chars\]$/);
    expect(raw.n).toBe(1);
  });
  it("finaliseEntry caps the description and validates with zod", () => {
    const r = finaliseEntry({ name: "n", description: "d".repeat(200_000) }, { sourceKey: "n", raw: {} }, "t");
    expect(r.entry?.entry.description?.length).toBeLessThan(70_000);
    expect(r.errors[0]?.error).toMatch(/description of 200000 characters capped/);
    const bad = finaliseEntry({ name: "n", remotes: [{ type: "sse" }] }, { sourceKey: "n", raw: { x: 1 } }, "t");
    expect(bad.entry).toBeUndefined();
    expect(bad.errors[0]).toMatchObject({ skipped: true, raw: '{"x":1}' });
    expect(bad.errors[0]?.error).toMatch(/^t: invalid entry: remotes\.0\.url: /);
  });
});

describe("official item normaliser", () => {
  it("reads _meta inside or beside server, and status/updatedAt", () => {
    const r = normaliseOfficialItem(
      {
        server: { name: "io.github.a/b", version: "1" },
        _meta: {
          "io.modelcontextprotocol.registry/official": { status: "deleted", updatedAt: "2025-10-01T00:00:00Z" },
        },
      },
      "t",
    );
    expect(r.entry).toMatchObject({
      sourceKey: "io.github.a/b",
      status: "deleted",
      upstreamUpdatedAt: "2025-10-01T00:00:00Z",
    });
  });
});

describe("identity keys", () => {
  it("treat gateway URLs and catalog-rebuilt images as weak", () => {
    const k = canonicalKeys({
      name: "smithery:x",
      packages: [
        { registryType: "oci", identifier: "mcp/airtable-mcp-server" },
        { registryType: "oci", identifier: "docker.io/domdomegg/airtable-mcp-server:1.7.2" },
      ],
      remotes: [
        { type: "streamable-http", url: "https://server.smithery.ai/x/mcp" },
        { type: "sse", url: "https://mcp.example.com/sse/" },
      ],
      repository: { url: "git+https://github.com/Domdomegg/airtable-mcp-server.git" },
    });
    expect(k.strong).toEqual([
      "name:smithery:x",
      "oci:domdomegg/airtable-mcp-server",
      "remote:https://mcp.example.com/sse",
    ]);
    expect(k.weak.sort()).toEqual([
      "oci:mcp/airtable-mcp-server",
      "remote:https://server.smithery.ai/x/mcp",
      "repo:github.com/domdomegg/airtable-mcp-server",
    ]);
  });
});

describe("awesome list parser", () => {
  it("walks list items (nested, ordered) through the Markdown AST, not string slicing", () => {
    const md = [
      "## Tools",
      "",
      "- [Some `code` **name**](https://github.com/o/r) 🐍 - Does *things* - with dashes.",
      "  - [child](https://github.com/o/mono/tree/main/packages/child/) - nested in a monorepo",
      "- text first then [link](https://github.com/o/second#readme)",
      "",
      "```",
      "- [in code](https://github.com/o/not-a-server)",
      "```",
      "",
      "1. [ordered](http://www.github.com/O/Ordered.git)",
    ].join("\n");
    const items = parseAwesomeReadme(md);
    expect(items.map((i) => [i.owner, i.name, i.subfolder, i.title, i.description, i.category])).toEqual([
      ["o", "r", undefined, "Some code name", "Does things - with dashes.", "Tools"],
      ["o", "mono", "packages/child", "child", "nested in a monorepo", "Tools"],
      ["o", "second", undefined, "link", undefined, "Tools"],
      ["O", "Ordered", undefined, "ordered", undefined, "Tools"],
    ]);
  });
});
