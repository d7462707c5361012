import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface FixtureTool {
  name: string;
  description: string;
  inputSchema?: Record<string, unknown>;
}

/**
 * Writes an npm package folder (`dir`) holding a self-contained stdio MCP server that lists `tools` (no imports
 * beyond node:readline: it runs from its own folder inside the sandbox). Tools without an inputSchema get an empty
 * object schema.
 */
export function writeStdioPackage(dir: string, name: string, tools: FixtureTool[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name, version: "1.0.0", type: "module", bin: { [name]: "index.js" } }),
  );
  const listed = tools.map((t) => ({ inputSchema: { type: "object", properties: {} }, ...t }));
  writeFileSync(
    join(dir, "index.js"),
    `import { createInterface } from "node:readline";
const tools = ${JSON.stringify(listed)};
const send = (m) => process.stdout.write(JSON.stringify({ jsonrpc: "2.0", ...m }) + "\\n");
createInterface({ input: process.stdin }).on("line", (line) => {
  const msg = JSON.parse(line);
  if (msg.id === undefined) return;
  if (msg.method === "initialize")
    send({ id: msg.id, result: { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "x", version: "1.0.0" } } });
  else if (msg.method === "tools/list") send({ id: msg.id, result: { tools } });
  else send({ id: msg.id, error: { code: -32601, message: "no" } });
});
`,
  );
}
