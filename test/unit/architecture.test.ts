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

/**
 * SQL in a string or template literal: a statement's opening words, upper case as every statement in this code base
 * is written (prose such as "select a server from the list" does not match).
 */
const SQL_TEXT =
  /\b(SELECT\b[\s\S]*\bFROM|INSERT\s+(OR\s+[A-Z]+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|TRIGGER|VIRTUAL\s+TABLE)|BEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)|PRAGMA\s)/;
/** better-sqlite3 connection methods that run SQL or open transactions. */
const SQL_CALLS = new Set(["prepare", "pragma", "transaction"]);

/** Where a file writes SQL or calls the connection itself: "file: what" per finding. */
function sqlUses(file: string, text: string): string[] {
  const out: string[] = [];
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (n: ts.Node): void => {
    let literal: string | undefined;
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) literal = n.text;
    else if (ts.isTemplateExpression(n))
      literal = [n.head.text, ...n.templateSpans.map((x) => x.literal.text)].join(" ");
    if (literal !== undefined && SQL_TEXT.test(literal))
      out.push(`${file}: SQL ${JSON.stringify(literal.slice(0, 60))}`);
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && SQL_CALLS.has(n.expression.name.text))
      out.push(`${file}: .${n.expression.name.text}()`);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** node:child_process calls that block the event loop until the child ends. */
const SYNC_CHILD = new Set(["spawnSync", "execSync", "execFileSync"]);

/** Where a file names a blocking child-process call: "file: name" per finding. */
function syncChildUses(file: string, text: string): string[] {
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n) && SYNC_CHILD.has(n.text)) out.push(`${file}: ${n.text}`);
    ts.forEachChild(n, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  return out;
}

const folder = (f: string) => f.split("/")[0]!;

const edges: Edge[] = [];
const sqlOutsideStore: string[] = [];
const syncChildren: string[] = [];
for (const file of sourceFiles(SRC)) {
  const from = relative(SRC, file);
  const text = readFileSync(file, "utf8");
  if (folder(from) !== "store") sqlOutsideStore.push(...sqlUses(from, text));
  syncChildren.push(...syncChildUses(from, text));
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
    const users = edges.filter(
      (e) => (e.to === "drizzle-orm" || e.to === "better-sqlite3") && folder(e.from) !== "store",
    );
    expect(users.map((e) => e.from)).toEqual([]);
  });

  it("only src/store writes SQL or calls the connection (prepare, pragma, transaction)", () => {
    expect(sqlUses("x.ts", 'db.prepare("SELECT id FROM servers WHERE slug = ?")')).toHaveLength(2);
    expect(sqlUses("x.ts", "const q = `UPDATE tools SET risk = ${r}`;")).toHaveLength(1);
    expect(sqlUses("x.ts", '"select a server from the list"; /x/.exec(s)')).toEqual([]);
    expect(sqlOutsideStore).toEqual([]);
  });

  // A worker that blocks on a child (a `docker pull`, even a bwrap check) cannot renew its job locks: its jobs are
  // taken for stalled and run twice. Every child process is awaited instead.
  it("runs no child process synchronously (spawnSync, execSync, execFileSync)", () => {
    expect(syncChildUses("x.ts", 'import { spawnSync } from "node:child_process"; spawnSync("ls");')).toHaveLength(2);
    expect(syncChildUses("x.ts", "// spawnSync in a comment\nconst s = 'execSync';")).toEqual([]);
    expect(syncChildren).toEqual([]);
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
