import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { classifyHeuristic } from "../../src/classify/heuristics.js";
import type { ProbeResult, RawTool, ServerEntry } from "../../src/core/types.js";
import { ingestProbe, saveClassification, upsertSourceEntry } from "../../src/store/catalog.js";
import { type Catalog, openCatalog } from "../../src/store/db.js";

/** The hostile description and name used by the escaping tests. */
export const HOSTILE_DESCRIPTION = "<img src=x onerror=alert(1)>";
export const HOSTILE_NAME = 'evil"><script>alert(2)</script>';

const DEV_SET = fileURLToPath(new URL("../../../shared/dev-set/tools.jsonl", import.meta.url));

/** Real tools from the dev set (names, descriptions, parameter names, annotations) as RawTool objects. */
export function devTools(server: string, limit = 40): RawTool[] {
  const out: RawTool[] = [];
  for (const line of readFileSync(DEV_SET, "utf8").split("\n")) {
    if (!line) continue;
    const d = JSON.parse(line) as {
      server: string;
      tool: string;
      description: string;
      params: string[];
      annotations: Record<string, unknown> | null;
    };
    if (d.server !== server) continue;
    out.push({
      name: d.tool,
      description: d.description,
      inputSchema: {
        type: "object",
        properties: Object.fromEntries(d.params.map((p) => [p, { type: "string", description: `The ${p}` }])),
        required: d.params.slice(0, 1),
      },
      ...(d.annotations ? { annotations: d.annotations } : {}),
    });
    if (out.length >= limit) break;
  }
  return out;
}

export const FILE_TOOLS: RawTool[] = [
  {
    name: "read_file",
    description: "Read the complete contents of a file from the file system.",
    inputSchema: {
      type: "object",
      properties: {
        path: { type: "string", description: "Path of the file" },
        encoding: { type: "string", enum: ["utf8", "base64"], default: "utf8" },
        head: { type: "integer", description: "Only the first N lines" },
      },
      required: ["path"],
    },
    annotations: { readOnlyHint: true },
  },
  {
    name: "delete_file",
    description: "Permanently delete a file. This cannot be undone.",
    inputSchema: {
      type: "object",
      properties: { path: { type: "string" }, recursive: { type: "boolean", default: false } },
      required: ["path"],
    },
    annotations: { readOnlyHint: true, destructiveHint: false },
  },
  {
    name: "write_file",
    description: "Create a new file or completely overwrite an existing file with new content.",
    inputSchema: {
      type: "object",
      properties: { path: { type: "string" }, content: { type: "string" } },
      required: ["path", "content"],
    },
  },
  {
    name: HOSTILE_NAME,
    description: HOSTILE_DESCRIPTION,
    inputSchema: {
      type: "object",
      properties: { "<b>x</b>": { type: "string", description: "</script><script>alert(3)</script>" } },
    },
  },
];

export function probeOk(tools: RawTool[], startedAt = "2026-03-01T10:00:00.000Z"): ProbeResult {
  return {
    outcome: "ok",
    transport: "stdio",
    launch: { command: "npx", args: ["-y", "x"] },
    startedAt,
    durationMs: 420,
    timings: {},
    serverInfo: { name: "x", version: "1.0.0" },
    protocolVersion: "2025-06-18",
    tools,
    prompts: [],
    resources: [],
    resourceTemplates: [],
    placeholders: [],
    warnings: [],
  };
}

/** Classifies every current tool with the real heuristic classifier and stores it. */
export function classifyAll(cat: Catalog): void {
  const rows = cat.sqlite.prepare("SELECT hash, raw FROM tools").all() as { hash: string; raw: string }[];
  for (const r of rows) saveClassification(cat.sqlite, r.hash, classifyHeuristic(JSON.parse(r.raw) as RawTool));
}

export function entry(name: string, extra: Partial<ServerEntry> = {}): ServerEntry {
  return {
    name,
    description: `The ${name} server`,
    packages: [
      {
        registryType: "npm",
        identifier: `@acme/${name.split("/").pop()}`,
        version: "1.0.0",
        environmentVariables: [{ name: "ACME_TOKEN", isRequired: true, isSecret: true }],
      },
    ],
    remotes: [],
    ...extra,
  };
}

/** A small real catalog: a files server (with the hostile tool) listed twice, and a GitHub-like server. */
export function buildFixtureCatalog(): { dir: string; cat: Catalog; files: number; github: number } {
  const dir = mkdtempSync(join(tmpdir(), "site-test-"));
  const cat = openCatalog(join(dir, "catalog.db"));
  const now = "2026-03-01T09:00:00.000Z";
  const files = upsertSourceEntry(
    cat.sqlite,
    { sourceId: "official", sourceKey: "io.github.acme/files@1.0.0", entry: entry("io.github.acme/files"), raw: {} },
    now,
  ).serverId;
  upsertSourceEntry(
    cat.sqlite,
    { sourceId: "smithery", sourceKey: "acme/files", entry: entry("io.github.acme/files"), raw: {} },
    now,
  );
  ingestProbe(cat.sqlite, files, probeOk(FILE_TOOLS), now);
  const github = upsertSourceEntry(
    cat.sqlite,
    {
      sourceId: "official",
      sourceKey: "io.github.modelcontextprotocol/server-github",
      entry: entry("io.github.modelcontextprotocol/server-github", { title: "GitHub" }),
      raw: {},
    },
    now,
  ).serverId;
  ingestProbe(cat.sqlite, github, probeOk(devTools("@modelcontextprotocol/server-github")), now);
  classifyAll(cat);
  return { dir, cat, files, github };
}
