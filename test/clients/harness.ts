// Shared parts of the client oracle tests: the clients installed from test/clients/package.json (once, under a lock),
// a temporary HOME per run, the fixture server's tools with their classifications, and an async runner (the fake
// model lives in the test's own process, so the client must not block it).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { Classification } from "../../src/core/types.js";
import { decidePolicy, type PolicyDecision, type Profile } from "../../src/policy/index.js";
import { type FakeModel, startFakeModel } from "./fake-model.js";

export const CLIENTS_DIR = new URL(".", import.meta.url).pathname;
export const FIXTURE = join(CLIENTS_DIR, "fixture-server.mjs");
export const BIN = (name: "claude" | "codex" | "gemini") => join(CLIENTS_DIR, "node_modules", ".bin", name);

/** Installs the clients from the committed lock when they are missing (.ci/run does it before the tests). */
export function ensureClients(): void {
  if (["claude", "codex", "gemini"].every((b) => existsSync(BIN(b as "claude")))) return;
  const lock = join(CLIENTS_DIR, ".installing");
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another test file is installing: wait for it (a stale lock older than 15 minutes is taken over).
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 15 * 60_000)
        rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error("timed out waiting for another install of the test clients");
      spawnSync("sleep", ["2"]);
      if (["claude", "codex", "gemini"].every((b) => existsSync(BIN(b as "claude")))) return;
    }
  }
  try {
    const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], {
      cwd: CLIENTS_DIR,
      encoding: "utf8",
      timeout: 14 * 60_000,
    });
    if (r.status !== 0) throw new Error(`npm ci in test/clients failed: ${r.stderr.slice(-2000)}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

const cls = (category: Classification["category"], risk: Classification["risk"]): Classification => ({
  access: category === "Read" ? "read" : category === "Execute" ? "execute" : "write",
  destructive: category === "Destructive",
  financial: false,
  category,
  risk,
  confidence: 0.9,
  signals: [],
  flags: [],
  source: "test",
  classifierVersion: "test-1",
});

/** The fixture server's tools as the catalog would classify them (mystery: never classified). */
export const FIXTURE_TOOLS = [
  { name: "read_file", classification: cls("Read", "low") },
  { name: "write_file", classification: cls("Write", "medium") },
  { name: "run_command", classification: cls("Execute", "critical") },
  { name: "delete_file", classification: cls("Destructive", "critical") },
  { name: "mystery", classification: null },
];
export const TOOL_NAMES = FIXTURE_TOOLS.map((t) => t.name);

/** The policy for the fixture server under the user's name, as `mcp-census policy <server> --as <name>` decides it. */
export function fixturePolicy(name: string, profile: Profile, opts: { unattended?: boolean } = {}): PolicyDecision {
  return decidePolicy(
    { name: "io.github.example/census-fixture", slug: "io-github-example-census-fixture" },
    FIXTURE_TOOLS,
    {
      profile,
      serverKey: name,
      launch: { kind: "command", command: process.execPath, args: [FIXTURE], env: ["MCP_CENSUS_CALLS"] },
      ...(opts.unattended ? { unattended: true } : {}),
    },
  );
}

const homes: string[] = [];

/** A temporary HOME with a calls log (removed by removeTempHomes). */
export function tempHome(prefix: string): { home: string; calls: string } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  homes.push(home);
  return { home, calls: join(home, "calls.jsonl") };
}

/** Removes the temporary HOMEs this test file made. */
export function removeTempHomes(): void {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
}

/** What reached the fixture server: the tools called, and (for Claude Code's approver) the tools asked about. */
export function readCalls(file: string): { called: string[]; asked: string[] } {
  const lines = existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as { called?: string; asked?: string })
    : [];
  return {
    called: lines.flatMap((l) => (l.called ? [l.called] : [])).sort(),
    asked: lines.flatMap((l) => (l.asked ? [l.asked] : [])).sort(),
  };
}

/** Runs a client without blocking this process's event loop; kills it after `timeoutMs`. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string | undefined>; timeoutMs?: number; input?: string },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { cwd: opts.cwd, env: opts.env as NodeJS.ProcessEnv, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => {
      stdout += d;
    });
    c.stderr.on("data", (d) => {
      stderr += d;
    });
    c.stdin.end(opts.input ?? "");
    const t = setTimeout(() => c.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    c.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The environment a client gets: no proxy, no real keys, only what the test sets. */
export function cleanEnv(home: string, extra: Record<string, string>): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: home, USER: "test", LANG: "C.UTF-8", TERM: "dumb", NO_COLOR: "1", ...extra };
}

/**
 * The suite's fake model, started once for the file: it offers-and-calls every fixture tool under the client's
 * name for it (`toolName`), offered or not, so a hidden tool must not run even when the model names it. Installs the
 * clients first; the temp homes go when the file ends.
 */
export function useFakeModel(toolName: (tool: string) => string): () => FakeModel {
  let model: FakeModel | undefined;
  const prefix = toolName("");
  beforeAll(async () => {
    ensureClients();
    model = await startFakeModel(
      (t) => t.startsWith(prefix),
      () => TOOL_NAMES.map(toolName),
    );
  }, 900_000);
  afterAll(async () => {
    await model?.close();
    removeTempHomes();
  });
  return () => {
    if (!model) throw new Error("the fake model is not started yet");
    return model;
  };
}

/** A JSON-RPC 2.0 peer over a client's stdio (one message per line): Codex's app-server, Gemini's ACP mode. */
export interface StdioRpc {
  request(method: string, params: object): Promise<Record<string, unknown>>;
  notify(method: string, params?: object): void;
  /** The params of the first notification of this method since the start (waits for it). */
  notification(method: string): Promise<Record<string, unknown>>;
  close(): void;
}

/**
 * Starts `cmd` and speaks JSON-RPC with it: `answer(method, params)` is the result sent back for each request the
 * client makes (approvals: the person's side). Everything pending fails with the client's stderr when it ends or
 * after `timeoutMs`.
 */
export function stdioRpc(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string | undefined>; timeoutMs?: number },
  answer: (method: string, params: Record<string, unknown>) => unknown,
): StdioRpc {
  const c = spawn(cmd, args, { cwd: opts.cwd, env: opts.env as NodeJS.ProcessEnv, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  let ended: Error | undefined;
  const pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const seen: { method: string; params: Record<string, unknown> }[] = [];
  const waiting: { method: string; resolve: (p: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  let nextId = 0;
  const send = (o: object) => {
    if (!ended) c.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", ...o })}\n`);
  };
  const fail = (why: string) => {
    ended ??= new Error(`${why}\n${stderr.slice(-1500)}`);
    for (const p of pending.values()) p.reject(ended);
    for (const w of waiting.splice(0)) w.reject(ended);
    pending.clear();
  };
  const timer = setTimeout(() => {
    fail(`${cmd} ${args.join(" ")}: no answer in time`);
    c.kill("SIGKILL");
  }, opts.timeoutMs ?? 120_000);
  c.stderr.on("data", (d) => {
    stderr += d;
  });
  c.on("close", () => {
    clearTimeout(timer);
    fail(`${cmd} ${args.join(" ")} ended`);
  });
  let buf = "";
  c.stdout.on("data", (d) => {
    buf += d;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let m: { id?: number; method?: string; params?: Record<string, unknown>; result?: unknown; error?: unknown };
      try {
        m = JSON.parse(line);
      } catch {
        continue; // not a message (a client's stray log line)
      }
      if (m.method === undefined && m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error !== undefined) p?.reject(new Error(`JSON-RPC error: ${JSON.stringify(m.error)}`));
        else p?.resolve((m.result ?? {}) as Record<string, unknown>);
      } else if (m.method !== undefined && m.id !== undefined) {
        send({ id: m.id, result: answer(m.method, m.params ?? {}) });
      } else if (m.method !== undefined) {
        seen.push({ method: m.method, params: m.params ?? {} });
        for (const w of waiting.filter((x) => x.method === m.method)) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(m.params ?? {});
        }
      }
    }
  });
  return {
    request: (method, params) =>
      new Promise((resolve, reject) => {
        if (ended) return reject(ended);
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        send({ id, method, params });
      }),
    notify: (method, params) => send({ method, ...(params ? { params } : {}) }),
    notification: (method) =>
      new Promise((resolve, reject) => {
        const s = seen.find((x) => x.method === method);
        if (s) return resolve(s.params);
        if (ended) return reject(ended);
        waiting.push({ method, resolve, reject });
      }),
    close: () => {
      clearTimeout(timer);
      ended ??= new Error("closed");
      c.kill();
    },
  };
}
