import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { createClassifier } from "../../src/classify/index.js";
import { parseToolLine, runClassify } from "../../src/cli/classify.js";

const INPUT = [
  JSON.stringify({ server: "s1", name: "delete_item", description: "Delete an item" }),
  "{not json",
  JSON.stringify({ server: "s1", description: "no name here" }),
  "",
  JSON.stringify({ server: "s2", name: "list_items", description: "List items", annotations: { readOnlyHint: true } }),
].join("\n");

async function collect(input: string): Promise<{ lines: unknown[]; res: { classified: number; failed: number } }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const res = await runClassify(Readable.from([input]), out, createClassifier(), { batchSize: 2 });
  out.end();
  const lines = Buffer.concat(chunks)
    .toString("utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);
  return { lines, res };
}

describe("parseToolLine", () => {
  it("rejects non-JSON, non-objects and missing names", () => {
    expect(parseToolLine("nope", 3)).toMatchObject({ line: 3, error: expect.stringContaining("not valid JSON") });
    expect(parseToolLine("[1]", 1)).toMatchObject({ error: "not a JSON object" });
    expect(parseToolLine('{"name":""}', 1)).toMatchObject({ error: "missing tool name" });
    expect(parseToolLine('{"name":"x","description":5}', 1)).toEqual({ line: 1, tool: { name: "x" } });
  });
});

describe("runClassify", () => {
  it("classifies in input order, reports bad lines by number, and keeps going", async () => {
    const { lines, res } = await collect(INPUT);
    expect(res).toEqual({ classified: 2, failed: 2 });
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({ server: "s1", tool: "delete_item", access: "write", destructive: true });
    expect(Object.keys(lines[0] as object).sort()).toEqual(
      [
        "access",
        "category",
        "confidence",
        "destructive",
        "financial",
        "flags",
        "risk",
        "server",
        "signals",
        "tool",
      ].sort(),
    );
    expect(lines[1]).toMatchObject({ line: 2, error: expect.stringContaining("JSON") });
    expect(lines[2]).toMatchObject({ line: 3, error: "missing tool name" });
    expect(lines[3]).toMatchObject({ server: "s2", tool: "list_items", access: "read", category: "Read" });
  });
});

describe("classify command (via registerClassify)", () => {
  it("writes JSONL to --output and exits 2 when a line failed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "classify-cmd-"));
    const entry = join(dir, "entry.mts");
    const root = resolve(import.meta.dirname, "../..");
    writeFileSync(
      entry,
      // The entry lives outside the repo, so both imports are absolute file URLs.
      `import { Command } from ${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve("commander")).href)};\n` +
        `import { registerClassify } from ${JSON.stringify(pathToFileURL(join(root, "src/cli/classify.ts")).href)};\n` +
        `const p = new Command("t"); registerClassify(p); await p.parseAsync(process.argv);\n`,
    );
    writeFileSync(join(dir, "in.jsonl"), INPUT);
    const out = join(dir, "out.jsonl");
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((res) => {
      execFile(
        process.execPath,
        ["--import", "tsx", entry, "classify", "--input", join(dir, "in.jsonl"), "--output", out, "--no-llm"],
        { cwd: root, env: { ...process.env, OPENAI_API_KEY: "" }, timeout: 60_000 },
        (err, _stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(code).toBe(2);
    expect(stderr).not.toMatch(/\n\s+at /);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[3]!)).toMatchObject({ tool: "list_items" });
  });
});
