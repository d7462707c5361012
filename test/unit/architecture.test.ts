import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/*
 * The layering of docs/ARCHITECTURE.md, checked on every import of every file under src/ (type-only imports
 * included: they couple modules just the same). Imports are read with the TypeScript compiler's own pre-processor.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const SRC = join(ROOT, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "migrations" || e.name === "assets" ? [] : sourceFiles(p);
    return /\.(ts|mts|mjs)$/.test(e.name) && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

interface Edge {
  from: string;
  /** Another src file (relative to src/), or a package name. */
  to: string;
  internal: boolean;
  /** `import type …` / `export type …`: erased at run time. */
  typeOnly: boolean;
}

const edges: Edge[] = [];
for (const file of sourceFiles(SRC)) {
  const from = relative(SRC, file);
  const text = readFileSync(file, "utf8");
  for (const imp of ts.preProcessFile(text, true, true).importedFiles) {
    const spec = imp.fileName;
    const stmt = text.slice(text.lastIndexOf("\n", imp.pos) + 1, imp.pos);
    const typeOnly = /^\s*(import|export)\s+type\b/.test(stmt);
    if (spec.startsWith(".")) {
      const target = relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, ".ts");
      edges.push({ from, to: target, internal: true, typeOnly });
    } else {
      const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
      edges.push({ from, to: pkg, internal: false, typeOnly });
    }
  }
}
const folder = (f: string) => f.split("/")[0]!;

/**
 * Files that still open SQL or drizzle themselves, waiting for their move into src/store (issue 14). The list may
 * only shrink: a file that no longer needs its entry fails the test until the entry is removed.
 */
const NOT_YET_IN_STORE = new Set([
  "jobs/ingest-consumer.ts",
  "pipeline/export.ts",
  "pipeline/finish.ts",
  "pipeline/stages.ts",
  "policy/write-all.ts",
  "registries/crawl.ts",
]);

describe("architecture (docs/ARCHITECTURE.md)", () => {
  it("reads every file's imports", () => {
    expect(edges.length).toBeGreaterThan(200);
  });

  it("only src/mcp and src/api/mcp-server.ts import the MCP SDK", () => {
    const bad = edges.filter(
      (e) => e.to === "@modelcontextprotocol/sdk" && folder(e.from) !== "mcp" && e.from !== "api/mcp-server.ts",
    );
    expect(bad.map((e) => e.from)).toEqual([]);
  });

  it("only src/store imports drizzle-orm and better-sqlite3", () => {
    const users = new Set(
      edges
        .filter((e) => (e.to === "drizzle-orm" || e.to === "better-sqlite3") && folder(e.from) !== "store")
        .map((e) => e.from),
    );
    expect([...users].filter((f) => !NOT_YET_IN_STORE.has(f)).sort()).toEqual([]);
    expect([...NOT_YET_IN_STORE].filter((f) => !users.has(f)).sort()).toEqual([]);
  });

  it("src/classify imports nothing of ours above src/core", () => {
    const bad = edges.filter(
      (e) => folder(e.from) === "classify" && e.internal && !["classify", "core"].includes(folder(e.to)),
    );
    expect(bad).toEqual([]);
  });

  it("src/core imports nothing of ours outside src/core", () => {
    const bad = edges.filter((e) => folder(e.from) === "core" && e.internal && folder(e.to) !== "core");
    expect(bad).toEqual([]);
  });

  it("src/store imports only src/core of ours", () => {
    const bad = edges.filter(
      (e) => folder(e.from) === "store" && e.internal && !["store", "core"].includes(folder(e.to)),
    );
    expect(bad).toEqual([]);
  });

  // Type-only imports are erased at run time, so a loop through one cannot leave a module half-initialised.
  it("has no run-time import cycles", () => {
    const out = new Map<string, string[]>();
    for (const e of edges) if (e.internal && !e.typeOnly) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
    const state = new Map<string, 1 | 2>();
    const cycles: string[][] = [];
    const walk = (f: string, path: string[]) => {
      state.set(f, 1);
      for (const t of out.get(f) ?? []) {
        if (state.get(t) === 1) cycles.push([...path.slice(path.indexOf(t)), t]);
        else if (!state.has(t)) walk(t, [...path, t]);
      }
      state.set(f, 2);
    };
    for (const f of out.keys()) if (!state.has(f)) walk(f, [f]);
    expect(cycles.map((c) => c.join(" → "))).toEqual([]);
  });
});
