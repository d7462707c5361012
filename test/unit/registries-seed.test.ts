import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../../src/core/errors.js";
import { createAdapter, HttpClient, type SourcePage } from "../../src/registries/index.js";

const SHARED = join(import.meta.dirname, "../../../shared/fixtures/registries/official");
const ctx = { http: new HttpClient(), validators: new Map() };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "mcp-census-seed-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function all(path: string): Promise<SourcePage[]> {
  const a = createAdapter("seed", { path });
  const pages: SourcePage[] = [];
  let cursor: string | undefined;
  do {
    const p = await a.fetchPage(cursor, ctx);
    pages.push(p);
    cursor = p.nextCursor;
  } while (cursor);
  return pages;
}

describe("seed adapter", () => {
  it("reads the three official formats with one normaliser", async () => {
    const [current, snake, dec] = await Promise.all([
      all(join(SHARED, "seed_2025-09-29_358.json")),
      all(join(SHARED, "seed_2025_05_16_471.json")),
      all(join(SHARED, "seed.json")),
    ]);
    expect(current[0]!.entries).toHaveLength(358);
    expect(dec[0]!.entries).toHaveLength(4);
    const s = snake[0]!;
    expect(s.entries.length + (s.olderVersions ?? 0)).toBe(471);
    expect(s.errors).toEqual([]);
    // 2025-05 snake_case: registry_name/name → registryType/identifier, docker → oci, "unknown" packages dropped.
    const magic = s.entries.find((e) => e.entry.name === "io.github.21st-dev/magic-mcp")!.entry;
    expect(magic.version).toBe("0.0.1-seed");
    expect(magic.packages[0]).toMatchObject({
      registryType: "npm",
      identifier: "@21st-dev/magic",
      environmentVariables: [{ name: "API_KEY" }],
    });
    const types = new Set(s.entries.flatMap((e) => e.entry.packages.map((p) => p.registryType)));
    expect([...types].sort()).toEqual(["npm", "oci", "pypi"]);
    const args = s.entries.flatMap((e) => e.entry.packages.flatMap((p) => p.packageArguments ?? []));
    expect(args.some((a) => a.isRequired === true && typeof a.valueHint === "string")).toBe(true);
    const azure = s.entries.find((e) => e.entry.name === "io.github.azure/azure-mcp")!.entry;
    expect(azure.remotes).toEqual([{ type: "sse", url: "http://localhost:5008/sse" }]);
  });

  it("reads the API page shape {servers:[{server,_meta}]} and skips non-latest versions", async () => {
    const meta = (isLatest: boolean, status = "active") => ({
      "io.modelcontextprotocol.registry/official": { status, isLatest, updatedAt: "2025-10-01T00:00:00Z" },
    });
    const dir = folder({
      "page.json": JSON.stringify({
        servers: [
          { server: { name: "io.github.a/one", version: "2.0.0" }, _meta: meta(true) },
          { server: { name: "io.github.a/one", version: "1.0.0" }, _meta: meta(false) },
          { server: { name: "io.github.a/two", version: "1.0.0" }, _meta: meta(true, "deprecated") },
        ],
        metadata: { count: 3 },
      }),
    });
    const [p] = await all(dir);
    expect(p!.entries.map((e) => [e.sourceKey, e.entry.version, e.status])).toEqual([
      ["io.github.a/one", "2.0.0", "active"],
      ["io.github.a/two", "1.0.0", "deprecated"],
    ]);
    expect(p!.olderVersions).toBe(1);
  });

  it("a file that is not JSON throws bad_input naming the file, line and column", async () => {
    const dir = folder({ "a.json": "[]", "b.json": '[\n  {"name": "io.github.a/b"},\n  {"name": "x",}\n]' });
    const a = createAdapter("seed", { path: dir });
    expect((await a.fetchPage(undefined, ctx)).nextCursor).toBe("1");
    const err = await a.fetchPage("1", ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("bad_input");
    expect((err as AppError).message).toBe(
      `${join(dir, "b.json")}: invalid JSON at line 3, column 16: Expected double-quoted property name`,
    );
  });

  it("an entry of the wrong shape is an error naming file and index; the rest are used", async () => {
    const dir = folder({
      "s.json": JSON.stringify([
        { name: "io.github.ok/one" },
        { name: "io.github.bad/two", packages: [{ registryType: "npm" }] },
        42,
        { name: "io.github.ok/three", remotes: [{ type: "sse", url: "https://x.example/sse" }] },
      ]),
    });
    const [p] = await all(dir);
    expect(p!.entries.map((e) => e.entry.name)).toEqual(["io.github.ok/one", "io.github.ok/three"]);
    const file = join(dir, "s.json");
    expect(p!.errors.map((e) => e.error)).toEqual([
      `${file} entry 1 ("io.github.bad/two"): invalid entry: packages.0.identifier: Invalid input: expected string, received undefined`,
      `${file} entry 2: not an object`,
    ]);
    expect(p!.errors.every((e) => e.skipped && e.raw)).toBe(true);
  });

  it("a missing folder is not_found; a file of the wrong top-level shape is a counted error", async () => {
    await expect(createAdapter("seed", { path: "/nonexistent/seeds" }).fetchPage(undefined, ctx)).rejects.toThrow(
      /seed folder \/nonexistent\/seeds does not exist/,
    );
    const [p] = await all(folder({ "x.json": '{"hello": 1}' }));
    expect(p!.errors[0]!.error).toMatch(/x\.json: expected an array of server.json objects/);
  });
});
