import type { ServerRow } from "../store/queries.js";
import { tomlKey, tomlString } from "./formats/toml.js";
import type { LaunchSpec } from "./types.js";

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * How a client starts the server, from the catalog's first package it knows how to run (npm → npx, PyPI → uvx,
 * OCI → docker, NuGet → dnx), else its first remote. Env variables are named, never given values.
 */
export function launchSpec(server: Pick<ServerRow, "packages" | "remotes">): LaunchSpec | undefined {
  for (const p of (server.packages ?? []).filter(isObj)) {
    const type = String(p.registryType ?? "").toLowerCase();
    const id = String(p.identifier ?? "");
    if (!id) continue;
    const ver = typeof p.version === "string" && p.version ? p.version : undefined;
    const env = (Array.isArray(p.environmentVariables) ? p.environmentVariables : [])
      .filter(isObj)
      .map((e) => e.name)
      .filter((n): n is string => typeof n === "string" && ENV_NAME.test(n));
    let cmd: string[] | undefined;
    if (type === "npm") cmd = ["npx", "-y", ver ? `${id}@${ver}` : id];
    else if (type === "pypi") cmd = ["uvx", ver ? `${id}==${ver}` : id];
    else if (type === "oci") cmd = ["docker", "run", "-i", "--rm", ...env.flatMap((k) => ["-e", k]), id];
    else if (type === "nuget") cmd = ["dnx", ver ? `${id}@${ver}` : id, "--yes"];
    if (cmd) return { kind: "command", command: cmd[0]!, args: cmd.slice(1), env: [...new Set(env)] };
  }
  for (const r of (server.remotes ?? []).filter(isObj)) {
    if (typeof r.url !== "string" || !/^https?:\/\//i.test(r.url)) continue;
    const headers = (Array.isArray(r.headers) ? r.headers : [])
      .filter(isObj)
      .map((h) => h.name)
      .filter((n): n is string => typeof n === "string");
    return { kind: "remote", url: r.url, transport: r.type === "sse" ? "sse" : "http", headers };
  }
  return undefined;
}

/** A placeholder the user replaces: never a value that looks real. */
export const placeholder = (name: string) => `<your ${name}>`;

export type InstallClient = "claude-code" | "codex" | "gemini" | "cursor" | "vscode" | "json";

/** A shell word, quoted when it has to be. */
function sh(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * How to add the server to a client under the given name (the same name the policy for that client uses). One text
 * per client: a command line where the client has one (`claude mcp add`, `codex mcp add`, `gemini mcp add`), the
 * config entry otherwise. Undefined when the catalog does not know how to start the server.
 */
export function installSnippet(
  server: Pick<ServerRow, "packages" | "remotes">,
  name: string,
  client: InstallClient,
): string | undefined {
  const l = launchSpec(server);
  if (!l) return undefined;
  if (l.kind === "command") {
    const cmd = [l.command, ...l.args].map(sh).join(" ");
    const envFlags = (flag: string) => l.env.map((e) => `${flag} ${e}=${sh(placeholder(e))} `).join("");
    switch (client) {
      case "claude-code":
        return `claude mcp add ${sh(name)} ${envFlags("-e")}-- ${cmd}\n`;
      case "codex":
        return `codex mcp add ${sh(name)} ${envFlags("--env")}-- ${cmd}\n`;
      case "gemini":
        return `gemini mcp add ${envFlags("-e")}${sh(name)} ${cmd}\n`;
      case "vscode":
        return `${JSON.stringify({ servers: { [name]: { type: "stdio", command: l.command, args: l.args, ...envObj(l.env) } } }, null, 2)}\n`;
      default:
        return `${JSON.stringify({ mcpServers: { [name]: { command: l.command, args: l.args, ...envObj(l.env) } } }, null, 2)}\n`;
    }
  }
  switch (client) {
    case "claude-code":
      return `claude mcp add --transport ${l.transport} ${sh(name)} ${sh(l.url)}${l.headers.map((h) => ` --header ${sh(`${h}: ${placeholder(h)}`)}`).join("")}\n`;
    case "codex":
      return `codex mcp add ${sh(name)} --url ${sh(l.url)}\n`;
    case "gemini":
      return `gemini mcp add --transport ${l.transport} ${sh(name)} ${sh(l.url)}\n`;
    case "vscode":
      return `${JSON.stringify({ servers: { [name]: { type: l.transport, url: l.url } } }, null, 2)}\n`;
    default:
      return `${JSON.stringify({ mcpServers: { [name]: { url: l.url } } }, null, 2)}\n`;
  }
}

function envObj(env: string[]): { env?: Record<string, string> } {
  return env.length ? { env: Object.fromEntries(env.map((e) => [e, placeholder(e)])) } : {};
}

/** The `[mcp_servers.<name>]` keys that start the server in Codex (command/args or url), without the table header. */
export function codexLaunchLines(l: LaunchSpec): { lines: string[]; env: string[] } {
  if (l.kind === "command")
    return {
      lines: [`command = ${tomlString(l.command)}`, `args = [${l.args.map(tomlString).join(", ")}]`],
      env: l.env.map((e) => `${tomlKey(e)} = ${tomlString(placeholder(e))}`),
    };
  return { lines: [`url = ${tomlString(l.url)}`], env: [] };
}
