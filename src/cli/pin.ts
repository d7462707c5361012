import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { AppError } from "../core/errors.js";
import type { ProbeResult } from "../core/types.js";
import {
  DEFAULT_LOCK_FILE,
  entryForVerify,
  type LockServer,
  pinServers,
  readLock,
  type ServerVerification,
  verifyLock,
  writeLock,
} from "../history/lock.js";
import { forTerminal } from "../history/text.js";
import { type ProbeOptions, type ProbeTarget, probe, targetsForEntry } from "../mcp/index.js";
import { probeOptionsFrom } from "../pipeline/stages.js";
import { action, catalogFor, configFor, wantsJson } from "./common.js";
import { splitCommandLine } from "./probe.js";

/**
 * How verify reaches a pinned server, in order: the lock's explicit targets; a local command for servers that
 * `probe --command` stored as "local:<command line>"; else the registry entry's packages and remotes.
 */
export function targetsForLock(name: string, server: LockServer, exactVersion: boolean): ProbeTarget[] {
  if (server.targets?.length) return server.targets as ProbeTarget[];
  const fromEntry = targetsForEntry(entryForVerify(server, exactVersion));
  if (fromEntry.length === 0 && name.startsWith("local:")) {
    const [command, ...args] = splitCommandLine(name.slice("local:".length));
    // No cwd: relative paths still resolve from here, but the server starts in an empty scratch folder, never in
    // the user's (where it could read a .env and publish it in a description), as for `probe --command`.
    if (command) return [{ kind: "command", command, args }];
  }
  return fromEntry;
}

async function listServer(targets: ProbeTarget[], opts: ProbeOptions): Promise<ProbeResult> {
  if (targets.length === 0) throw new AppError("unsupported", "the lock gives no package, remote or command to launch");
  let last: ProbeResult | undefined;
  for (const t of targets) {
    last = await probe(t, opts);
    if (last.outcome === "ok") return last;
  }
  return last!;
}

/** Terminal report of one server's verification. */
export function formatVerification(v: ServerVerification): string[] {
  if (v.status === "ok") return [forTerminal(`${v.server}: ok (${v.tools} tools match the lock)`)];
  if (v.status === "probe_failed") return [forTerminal(`${v.server}: could not list tools — ${v.error ?? "failed"}`)];
  const lines = [forTerminal(`${v.server}: DRIFT — ${v.drift.length} tool${v.drift.length === 1 ? "" : "s"} differ`)];
  const mark = { added: "+", removed: "-", changed: "~" } as const;
  for (const d of v.drift) {
    lines.push(forTerminal(`  ${mark[d.change]} ${d.tool}  [${d.severity}] ${d.reason}`));
    for (const l of d.diff) lines.push(forTerminal(`      ${l}`));
  }
  return lines;
}

interface PinFlags {
  lock: string;
}
interface VerifyFlags {
  lock: string;
  exactVersion?: boolean;
  allowUnsandboxed?: boolean;
  timeout?: string;
}

/** `mcp-census pin` and `mcp-census verify`: a lock of approved tool definitions, checked in CI. */
export function registerPin(program: Command): void {
  program
    .command("pin <server...>")
    .description(
      "write a lock file of the current tool definitions (hashes) of catalog servers, to check later with `verify`",
    )
    .option("--lock <file>", "lock file (servers already in it are kept)", DEFAULT_LOCK_FILE)
    .action(
      action(async (refs: string[], flags: PinFlags, cmd: Command) => {
        const config = configFor(cmd);
        const path = resolve(flags.lock);
        const base = existsSync(path) ? readLock(path) : undefined;
        const cat = catalogFor(config);
        let lock: ReturnType<typeof pinServers>;
        try {
          lock = pinServers(cat.sqlite, refs, base);
        } finally {
          cat.close();
        }
        writeLock(path, lock);
        if (wantsJson(cmd)) {
          const servers = Object.fromEntries(
            Object.entries(lock.servers).map(([n, s]) => [n, Object.keys(s.tools).length]),
          );
          process.stdout.write(`${JSON.stringify({ lock: path, servers }, null, 2)}\n`);
        } else if (!cmd.optsWithGlobals().quiet) {
          for (const [name, s] of Object.entries(lock.servers)) {
            process.stdout.write(forTerminal(`${name}: ${Object.keys(s.tools).length} tools pinned`) + "\n");
          }
          process.stdout.write(`wrote ${path}\n`);
        }
      }),
    );

  program
    .command("verify [server...]")
    .description(
      "list the tools of every server in the lock file again and fail (exit 1) on any drift from it, with a diff",
    )
    .option("--lock <file>", "lock file", DEFAULT_LOCK_FILE)
    .option("--exact-version", "launch the package versions recorded in the lock instead of the newest")
    .option("--allow-unsandboxed", "launch without bubblewrap when it is missing (unsafe)")
    .option("--timeout <ms>", "wall-clock limit for each probe")
    .action(
      action(async (only: string[], flags: VerifyFlags, cmd: Command) => {
        const config = configFor(cmd, {
          allowUnsandboxed: flags.allowUnsandboxed || undefined,
          probeTimeoutMs: flags.timeout ? Number(flags.timeout) : undefined,
        });
        const path = resolve(flags.lock);
        const lock = readLock(path);
        const opts = probeOptionsFrom(config);
        const report = await verifyLock(
          lock,
          (name, server) => listServer(targetsForLock(name, server, !!flags.exactVersion), opts),
          { only, concurrency: Math.min(config.concurrency, 4) },
        );
        if (wantsJson(cmd)) {
          process.stdout.write(`${JSON.stringify({ lock: path, ...report }, null, 2)}\n`);
        } else {
          const lines = report.servers.flatMap(formatVerification);
          const bad = report.servers.filter((s) => s.status !== "ok").length;
          lines.push(
            bad
              ? `verify: ${bad} of ${report.servers.length} servers differ from ${path} or could not be listed`
              : `verify: all ${report.servers.length} servers match ${path}`,
          );
          process.stdout.write(`${lines.join("\n")}\n`);
        }
        if (!report.ok) process.exitCode = 1;
      }),
    );
}
