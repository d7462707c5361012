import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { JsonTextError, parseUntrustedJson } from "../core/json.js";
import type { ProbeTarget } from "../mcp/index.js";

export type ClientId = "claude-desktop" | "claude-code" | "cursor" | "vscode" | "windsurf";

/** One server as the user's client configuration declares it. */
export interface ConfiguredServer {
  client: ClientId;
  file: string;
  /** The server's key in the config: what the client calls it. */
  name: string;
  target: ProbeTarget;
  /** Values from env and headers, never printed or stored (every output is redacted with them). */
  secrets: string[];
  /** Names of env variables given a placeholder instead of their value. */
  placeholders: string[];
}

/** A problem with one file or one server entry; the others are still scanned. */
export interface ConfigProblem {
  file: string;
  server?: string;
  message: string;
}

/** Where each client keeps its MCP configuration (user-wide first, then the current project). */
export function knownConfigLocations(cwd = process.cwd(), home = homedir()): string[] {
  const appData = process.env.APPDATA ?? join(home, "AppData", "Roaming");
  return [
    join(home, "Library", "Application Support", "Claude", "claude_desktop_config.json"),
    join(home, ".config", "Claude", "claude_desktop_config.json"),
    join(appData, "Claude", "claude_desktop_config.json"),
    join(home, ".claude.json"),
    join(cwd, ".mcp.json"),
    join(home, ".cursor", "mcp.json"),
    join(cwd, ".cursor", "mcp.json"),
    join(cwd, ".vscode", "mcp.json"),
    join(home, ".config", "Code", "User", "mcp.json"),
    join(home, "Library", "Application Support", "Code", "User", "mcp.json"),
    join(home, ".codeium", "windsurf", "mcp_config.json"),
  ];
}

/** JSON with comments and trailing commas (VS Code, Cursor and Claude Code accept them). */
export function parseJsonc(text: string): unknown {
  let out = "";
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i]!;
    if (ch === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (ch === "/" && text[i + 1] === "/") {
      while (i < n && text[i] !== "\n") i++;
    } else if (ch === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
    } else {
      out += ch;
      i++;
    }
  }
  // Positions refer to the text without comments: the reason alone is reported.
  try {
    return parseUntrustedJson(out.replace(/,(\s*[}\]])/g, "$1"));
  } catch (err) {
    throw err instanceof JsonTextError ? new Error(err.reason) : err;
  }
}

/** The client a file belongs to, from its path; undefined when the path does not say. */
export function clientFromPath(file: string): ClientId | undefined {
  const b = basename(file);
  const d = basename(dirname(file));
  if (b === "claude_desktop_config.json") return "claude-desktop";
  if (b === ".claude.json" || b === ".mcp.json") return "claude-code";
  if (b === "mcp.json" && d === ".cursor") return "cursor";
  if (b === "mcp.json" && (d === ".vscode" || d === "User")) return "vscode";
  if (b === "mcp_config.json" && d === "windsurf") return "windsurf";
  return undefined;
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

/** The client whose shape a parsed config has; undefined for a shape no supported client uses. */
export function clientFromShape(data: unknown): ClientId | undefined {
  if (!isObj(data)) return undefined;
  if (isObj(data.servers)) return "vscode";
  if (isObj(data.mcp) && isObj((data.mcp as Record<string, unknown>).servers)) return "vscode";
  if (isObj(data.projects)) return "claude-code";
  if (isObj(data.mcpServers)) {
    const entries = Object.values(data.mcpServers).filter(isObj);
    if (entries.some((e) => typeof e.serverUrl === "string")) return "windsurf";
    if (entries.some((e) => e.type === "http" || e.type === "stdio")) return "claude-code";
    return "claude-desktop";
  }
  return undefined;
}

// Env values under these names are credentials: the probed server gets a placeholder, never the value.
const SECRET_NAME = /key|token|secret|passw|pwd|auth|cred|cookie|session|private|cert|bearer/i;
export const ENV_PLACEHOLDER = "MCP_CENSUS_PLACEHOLDER_NOT_A_REAL_SECRET";

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObj(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

function entryToServer(client: ClientId, file: string, name: string, e: unknown): ConfiguredServer | ConfigProblem {
  if (!isObj(e)) return { file, server: name, message: "entry is not an object" };
  const env = stringMap(e.env);
  const headers = stringMap(e.headers);
  const secrets = [...Object.values(env), ...Object.values(headers)].filter((s) => s.length >= 4);
  const url = typeof e.url === "string" ? e.url : typeof e.serverUrl === "string" ? e.serverUrl : e.httpUrl;
  if (typeof e.command === "string" && e.command.trim()) {
    const args = Array.isArray(e.args) ? e.args.filter((a): a is string => typeof a === "string") : [];
    if (Array.isArray(e.args) && args.length !== e.args.length)
      return { file, server: name, message: "args must all be strings" };
    // Keys passed on the command line (--api-key X, --token=X) are secrets too.
    args.forEach((a, i) => {
      const eq = /^-{1,2}([^=]+)=(.+)$/.exec(a);
      if (eq && SECRET_NAME.test(eq[1]!) && eq[2]!.length >= 4) secrets.push(eq[2]!);
      const next = args[i + 1];
      if (/^-{1,2}/.test(a) && !a.includes("=") && SECRET_NAME.test(a) && next && next.length >= 4) secrets.push(next);
    });
    const placeholders: string[] = [];
    const probeEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) {
      if (SECRET_NAME.test(k)) {
        probeEnv[k] = ENV_PLACEHOLDER;
        placeholders.push(k);
      } else probeEnv[k] = v;
    }
    return {
      client,
      file,
      name,
      target: {
        kind: "command",
        command: e.command,
        args,
        env: probeEnv,
        ...(typeof e.cwd === "string" ? { cwd: e.cwd } : {}),
      },
      secrets,
      placeholders: placeholders.sort(),
    };
  }
  if (typeof url === "string" && url.trim()) {
    const type = e.type === "sse" || e.transport === "sse" || /\/sse\/?$/.test(url) ? "sse" : "streamable-http";
    // Headers (tokens) are not sent: the probe reaches the server unauthenticated and reports if it needs auth.
    return { client, file, name, target: { kind: "remote", remote: { type, url } }, secrets, placeholders: [] };
  }
  return { file, server: name, message: "has neither a command nor a url" };
}

/** Reads one client config file: its servers and the problems found, never throwing for the file's content. */
export function readClientConfig(file: string): {
  client?: ClientId;
  servers: ConfiguredServer[];
  problems: ConfigProblem[];
} {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return {
      servers: [],
      problems: [{ file, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? "error"}` }],
    };
  }
  let data: unknown;
  try {
    data = parseJsonc(text);
  } catch (err) {
    return { servers: [], problems: [{ file, message: `malformed config: ${(err as Error).message.split("\n")[0]}` }] };
  }
  const client = clientFromShape(data) ? (clientFromPath(file) ?? clientFromShape(data)) : undefined;
  if (!client || !isObj(data)) {
    return {
      servers: [],
      problems: [
        {
          file,
          message:
            "unknown MCP client config: expected `mcpServers` (Claude Desktop, Claude Code, Cursor, Windsurf) or `servers` (VS Code)",
        },
      ],
    };
  }
  const blocks: Record<string, unknown>[] = [];
  if (isObj(data.mcpServers)) blocks.push(data.mcpServers);
  if (isObj(data.servers)) blocks.push(data.servers);
  if (isObj(data.mcp) && isObj((data.mcp as Record<string, unknown>).servers))
    blocks.push((data.mcp as Record<string, Record<string, unknown>>).servers!);
  // ~/.claude.json keeps per-project servers too.
  if (isObj(data.projects))
    for (const p of Object.values(data.projects)) if (isObj(p) && isObj(p.mcpServers)) blocks.push(p.mcpServers);
  const servers: ConfiguredServer[] = [];
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const block of blocks) {
    for (const [name, entry] of Object.entries(block)) {
      if (seen.has(name)) continue;
      seen.add(name);
      if (isObj(entry) && entry.disabled === true) continue;
      const r = entryToServer(client, file, name, entry);
      if ("target" in r) servers.push(r);
      else problems.push(r);
    }
  }
  return { client, servers, problems };
}

/** The config files to scan: the given ones, or every known location that exists. */
export function configFiles(given: string[], cwd = process.cwd(), home = homedir()): string[] {
  if (given.length > 0) return given;
  return [...new Set(knownConfigLocations(cwd, home))].filter((f) => existsSync(f));
}
