import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command with exactly the given environment, feeds it `input` (or closes stdin), collects its output, and
 * kills it with SIGKILL after `timeoutMs`.
 */
export function runProcess(
  command: string,
  args: string[],
  opts: { env: Record<string, string | undefined>; cwd?: string; input?: string; timeoutMs?: number },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd ?? ROOT, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** Runs the real CLI (bin/mcp-census.js) and collects its output. */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<ProcessResult> {
  return runProcess(process.execPath, [join(ROOT, "bin", "mcp-census.js"), ...args], {
    ...opts,
    env: { ...process.env, MCP_CENSUS_LOG_LEVEL: "warn", ...opts.env },
  });
}

/**
 * Starts `mcp-census <globalArgs> serve --port 0`, pushes the child onto `procs` (the caller kills them), and resolves
 * with the base URL from its "serving at …/v1" line; rejects with its stderr if it exits first.
 */
export function startServe(
  globalArgs: string[],
  procs: ChildProcess[],
  env: Record<string, string> = {},
): Promise<string> {
  const child = spawn(process.execPath, [join(ROOT, "bin", "mcp-census.js"), ...globalArgs, "serve", "--port", "0"], {
    env: { ...process.env, MCP_CENSUS_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  procs.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /at (http:\/\/[^\s]+)\/v1/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.stderr!.on("data", (d) => {
      err += d;
    });
    child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}
