import type { Risk } from "../core/types.js";
import type { ToolDecision } from "./types.js";

/** What SARIF needs of a scan: each server's place in a config file, its tool decisions, and problems. */
export interface SarifInput {
  version: string;
  servers: { file: string; line?: number; server: string; tools: ToolDecision[] }[];
  problems: { file: string; line?: number; server?: string; message: string }[];
}

const LEVEL: Record<Risk, "error" | "warning" | "note"> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
};

const RULES = [
  { id: "mcp-tool-read", name: "ReadTool", text: "The MCP server exposes a tool that reads data." },
  { id: "mcp-tool-write", name: "WriteTool", text: "The MCP server exposes a tool that changes data." },
  { id: "mcp-tool-execute", name: "ExecuteTool", text: "The MCP server exposes a tool that runs code or commands." },
  { id: "mcp-tool-destructive", name: "DestructiveTool", text: "The MCP server exposes a tool that can destroy data." },
  { id: "mcp-tool-financial", name: "FinancialTool", text: "The MCP server exposes a tool that can move money." },
  { id: "mcp-server-problem", name: "ServerProblem", text: "A configured MCP server could not be scanned." },
];

const uri = (file: string) => file.replace(/\\/g, "/");

/** SARIF 2.1.0 log for code scanning: one result per tool, levelled by risk, plus one per problem. */
export function toSarif(input: SarifInput): Record<string, unknown> {
  const loc = (file: string, line?: number) => ({
    physicalLocation: {
      artifactLocation: { uri: uri(file) },
      ...(line ? { region: { startLine: line } } : {}),
    },
  });
  const results: Record<string, unknown>[] = [];
  for (const s of input.servers) {
    for (const t of s.tools) {
      results.push({
        ruleId: `mcp-tool-${t.category.toLowerCase()}`,
        level: LEVEL[t.risk],
        message: {
          text: `${s.server}/${t.tool}: ${t.category}, ${t.risk} risk. Recommended: ${t.action}. ${t.reason}.`,
        },
        locations: [loc(s.file, s.line)],
        properties: { server: s.server, tool: t.tool, category: t.category, risk: t.risk, action: t.action },
      });
    }
  }
  for (const p of input.problems) {
    results.push({
      ruleId: "mcp-server-problem",
      level: "error",
      message: { text: p.server ? `${p.server}: ${p.message}` : p.message },
      locations: [loc(p.file, p.line)],
    });
  }
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "mcp-census",
            version: input.version,
            informationUri: "https://github.com/mcp-census/mcp-census",
            rules: RULES.map((r) => ({ id: r.id, name: r.name, shortDescription: { text: r.text } })),
          },
        },
        results,
      },
    ],
  };
}
