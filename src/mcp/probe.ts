import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { oneLine } from "../core/errors.js";
import { emptyProbeResult, type PackageSpec, type ProbeResult } from "../core/types.js";
import {
  type Diagnosis,
  diagnose,
  envNamesInSource,
  listeningOn,
  placeholderForName,
  serviceNeeded,
  serviceOfDependencies,
  stdioSwitch,
} from "./diagnose.js";
import { installGitPackage } from "./git-install.js";
import { buildCommand, nodeFlagsFrom, PLACEHOLDER_SECRET, type ProbeTarget } from "./launch.js";
import { createProbeLimits } from "./limits.js";
import { ListingError, runListing } from "./listing.js";
import { enginesNode, hostRuntime, installNodeRuntime, type NodeRuntime, nodeMajorForEngines } from "./node-runtime.js";
import { InstallError, installNpmPackage, looksLikeMissingNativeBuild } from "./npm-install.js";
import { installPyPIPackage, launcherArgsDropped, PythonMissingError } from "./pypi-install.js";
import { probeRemote } from "./remote.js";
import { ConnectionClosedError, RpcError, RpcSession } from "./rpc-session.js";
import { baseEnv, SANDBOX_HOME, SANDBOX_TMP, sandboxAvailable, sandboxCommand, unsandboxedCommand } from "./sandbox.js";
import { type StdioLimits, TolerantStdioTransport } from "./stdio-client.js";

export interface ProbeOptions {
  /** Per-package, per-version install cache root. */
  cacheDir: string;
  /** Wall clock for the whole probe, install excluded. */
  timeoutMs: number;
  installTimeoutMs: number;
  allowInstallScripts: boolean;
  allowUnsandboxed: boolean;
  allowPrivateNetwork: boolean;
  memoryLimitMb: number;
  /** node_modules directories searched for an already-installed npm package before installing into cacheDir. */
  resolveFrom?: string[];
  signal?: AbortSignal;
  /** Test and benchmark hook: run without the sandbox even when bwrap works (still needs allowUnsandboxed). */
  forceUnsandboxed?: boolean;
  /** Overrides for the stdout/stderr caps. */
  stdioLimits?: Partial<StdioLimits>;
  /** Environment given by the user (`-e KEY=VALUE`): applied to every launched target, over any placeholder. */
  env?: Record<string, string>;
  /** Arguments given by the user (`probe <target> -- <args…>`): used instead of the registry's package arguments. */
  args?: string[];
  /** Limit the whole probe's memory and processes with a cgroup when one can be made (default true). */
  useCgroups?: boolean;
  /** Processes the whole probe may run at once (default PROBE_MAX_PROCESSES). */
  maxProcesses?: number;
  /**
   * When an npm package needs a newer Node.js than the running one (its engines.node, or what it says when it
   * exits), fetch that Node.js from the npm registry into the install cache and run the server with it, sandboxed
   * (default true).
   */
  fetchNodeRuntime?: boolean;
  /** Interpreter PyPI packages' virtual environments are made from (default python3 on PATH). */
  python?: string;
  /** PyPI index URL for installs ("none": only pypiFindLinks); default the installer's own. */
  pypiIndexUrl?: string;
  /** Folders or URLs of wheels for PyPI installs. */
  pypiFindLinks?: string[];
}

const MAX_WARNINGS = 200;

function emptyResult(transport: string): ProbeResult {
  return emptyProbeResult("protocol_error", transport);
}

/** Collapses repeated warnings and caps their number so a hostile listing cannot bloat the record. */
function tidyWarnings(list: string[]): string[] {
  const uniq = [...new Set(list)];
  if (uniq.length <= MAX_WARNINGS) return uniq;
  return [...uniq.slice(0, MAX_WARNINGS), `… and ${uniq.length - MAX_WARNINGS} more warnings`];
}

/** One stdio launch: what to run and what the sandbox must expose. */
interface StdioLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Paths visible read-only inside the sandbox. */
  visible: string[];
  record: Record<string, unknown>;
  /** Where in `args` a subcommand goes (right after the script); undefined: subcommands are not added. */
  subcommandAt?: number;
  /** Extra paths writable inside the sandbox (install scripts' build folder). */
  writable?: string[];
  /** The script launched, read as text (never run here) when a message names a missing value but no variable. */
  sourceFile?: string;
  /** The one service the package's dependencies talk to ({ service: "mysql", client: "mysql2" }), if any. */
  clientOf?: { service: string; client: string };
}

/** Most launches a probe makes for one target: the first, then retries on what the server said it needs. */
const MAX_ATTEMPTS = 4;
/** After a server says where it listens, how long it still gets to answer initialize on stdio. */
const LISTEN_GRACE_MS = 1500;
/** After a server reports it cannot reach a service, how long it still gets to answer initialize. */
const SERVICE_GRACE_MS = 3000;
/** Tasks one probe may run at once (server, its children, the sandbox's own; a cgroup counts threads too, and
 * one node process has about a dozen). */
export const PROBE_MAX_PROCESSES = 256;

/** What one attempt printed and whether it said it listens over HTTP. */
interface AttemptText {
  text: string;
  listening?: string;
  /** True when the process wrote nothing at all on stdout or stderr. */
  silent: boolean;
  /** True when it said nothing beyond the protocol itself: no stderr, no stray stdout lines, no log messages. */
  quiet: boolean;
}

/** Spawns a stdio server once (sandboxed unless allowed otherwise), lists it, and kills its whole process tree. */
async function runAttempt(
  launch: StdioLaunch,
  out: ProbeResult,
  opts: ProbeOptions,
  signal: AbortSignal,
  scratch: string,
): Promise<AttemptText> {
  const sandboxed = !opts.forceUnsandboxed && (await sandboxAvailable()).ok;
  const cpuSeconds = Math.ceil(opts.timeoutMs / 1000) + 5;
  const env = sandboxed
    ? { ...baseEnv(SANDBOX_HOME, SANDBOX_TMP), ...launch.env }
    : { ...baseEnv(scratch, scratch), ...launch.env };
  const limits = createProbeLimits(
    opts.memoryLimitMb,
    opts.maxProcesses ?? PROBE_MAX_PROCESSES,
    opts.useCgroups !== false,
  );
  const inner = sandboxed
    ? sandboxCommand(launch.command, launch.args, {
        readOnly: launch.visible,
        writable: launch.writable,
        cwd: launch.cwd,
        env,
        memoryLimitMb: opts.memoryLimitMb,
        cpuSeconds,
        extraLimits: limits.prlimitArgs,
      })
    : unsandboxedCommand(launch.command, launch.args, {
        memoryLimitMb: opts.memoryLimitMb,
        cpuSeconds,
        extraLimits: limits.prlimitArgs,
      });
  const cmd = limits.wrap(inner.file, inner.args);
  out.launch = {
    ...launch.record,
    sandbox: sandboxed ? "bwrap" : "none",
    limits: {
      kind: limits.kind,
      memoryMb: limits.memoryMb,
      maxProcesses: limits.maxProcesses,
      enforced: limits.enforced,
      ...(limits.reason ? { reason: limits.reason } : {}),
    },
  };
  const attemptCtl = new AbortController();
  const sig = AbortSignal.any([signal, attemptCtl.signal]);
  const transport = new TolerantStdioTransport(cmd.file, cmd.args, {
    env: sandboxed ? { PATH: process.env.PATH ?? "/usr/bin:/bin" } : env,
    cwd: sandboxed ? undefined : existsSync(launch.cwd) ? launch.cwd : scratch,
    limits: opts.stdioLimits,
  });
  let listening: string | undefined;
  let stuckOn: string | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  transport.ontext = (line) => {
    if (listening || stuckOn || out.protocolVersion) return;
    const where = listeningOn(line);
    const service = where ? undefined : serviceNeeded(line);
    if (!where && !service) return;
    if (where) listening = where;
    else stuckOn = service!.service;
    // Some servers serve HTTP and stdio at once, or retry a connection and recover: give initialize a moment
    // before giving up, but never the whole time limit.
    graceTimer = setTimeout(
      () => {
        if (!out.protocolVersion) attemptCtl.abort(new Error(where ? `listens on ${where}` : `waits for ${stuckOn}`));
      },
      where ? LISTEN_GRACE_MS : SERVICE_GRACE_MS,
    );
  };
  const session = new RpcSession(transport);
  const t0 = performance.now();
  try {
    await session.start();
    out.timings.spawnMs = Math.round(performance.now() - t0);
    await runListing(session, out, sig);
    out.timings.spawnToListedMs = Math.round(performance.now() - t0);
    out.outcome = "ok";
  } catch (err) {
    // Let the process finish dying so exit status and stderr are complete before judging.
    if (!sig.aborted) await Promise.race([transport.whenExited(), new Promise((r) => setTimeout(r, 300).unref())]);
    classifyStdioFailure(err, transport, out, signal, opts.signal);
    if (attemptCtl.signal.aborted && !signal.aborted) {
      if (listening) {
        out.outcome = "needs_config";
        out.error = `started an HTTP server (${listening}) instead of speaking stdio`;
      } else {
        out.outcome = "needs_service";
        out.error = `waits for ${stuckOn === "network" ? "network access" : `a running ${stuckOn}`} at start and never answered initialize`;
      }
    }
  } finally {
    if (graceTimer) clearTimeout(graceTimer);
    const tc = performance.now();
    await session.close();
    const peak = limits.peakMemoryMb();
    if (peak !== undefined) (out.launch.limits as Record<string, unknown>).peakMemoryMb = peak;
    const hit = limits.memoryLimitHit();
    if (hit !== undefined) (out.launch.limits as Record<string, unknown>).memoryLimitHit = hit;
    await limits.release();
    out.timings.closeMs = Math.round(performance.now() - tc);
  }
  const tail = transport.stderr;
  if (tail.trim()) out.stderrTail = tail;
  const stdoutText = transport.stdoutTextTail;
  if (stdoutText.trim() && out.outcome !== "ok") out.launch.stdoutTail = stdoutText.slice(-1000);
  if (session.logMessages.length && out.outcome !== "ok") out.launch.logMessages = session.logMessages.slice(-10);
  const s = transport.stats;
  return {
    text: [tail, stdoutText, ...session.logMessages].join("\n"),
    ...(listening ? { listening } : {}),
    silent: s.stderrBytes === 0 && s.stdoutBytes === 0,
    quiet: s.stderrBytes === 0 && s.nonProtocolLines === 0 && session.logMessages.length === 0,
  };
}

/** A placeholder value for a variable a server asked for, masked in the record. */
function placeholderEnv(names: string[], scratch: string): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, placeholderForName(n, scratch, PLACEHOLDER_SECRET)]));
}

/**
 * Services a probe can start, throwaway and empty, inside the server's own sandbox (same loopback, nothing persisted):
 * the shell line that starts one in the background and waits until it answers.
 */
function throwawayService(service: string): string | undefined {
  if (service === "redis") {
    if (!existsSync("/usr/bin/redis-server")) return undefined;
    const wait = existsSync("/usr/bin/redis-cli")
      ? "i=0; while [ $i -lt 50 ] && ! redis-cli -p 6379 ping >/dev/null 2>&1; do sleep 0.1; i=$((i+1)); done"
      : "sleep 0.5";
    return `redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir /tmp --logfile '' >/dev/null 2>&1; ${wait}`;
  }
  if (service === "mysql") {
    // MariaDB (or MySQL) on its usual port with an empty data folder in the sandbox's tmpfs: no privilege tables,
    // so any user and password connect; small buffers; it is ready when its socket appears.
    const daemon = ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"].find((f) => existsSync(f));
    if (!daemon) return undefined;
    const sock = "/tmp/mcp-census-mysql/mysqld.sock";
    return `mkdir -p /tmp/mcp-census-mysql/data && ${daemon} --no-defaults --datadir=/tmp/mcp-census-mysql/data --socket=${sock} --port=3306 --bind-address=127.0.0.1 --skip-grant-tables --user=root --innodb-buffer-pool-size=8M --innodb-log-file-size=4M --skip-log-bin --log-error=/tmp/mcp-census-mysql/error.log >/dev/null 2>&1 & i=0; while [ $i -lt 100 ] && [ ! -S ${sock} ]; do sleep 0.1; i=$((i+1)); done`;
  }
  return undefined;
}

/** The next launch to try given what the last one said, or undefined when it said nothing we can act on. */
function nextLaunch(
  cur: StdioLaunch,
  said: AttemptText,
  d: Diagnosis,
  tried: { switches: string[][]; args: Set<string>; lastEnv: string[]; sandboxed: boolean },
  scratch: string,
): { launch: StdioLaunch; added: Record<string, unknown> } | undefined {
  if (said.listening) {
    const sw = stdioSwitch(said.text, tried.switches);
    if (!sw) return undefined;
    tried.switches.push(sw);
    return {
      launch: { ...cur, args: [...cur.args, ...sw] },
      added: { args: sw, because: `said it listens on ${said.listening}` },
    };
  }
  if (d.needsNode) return undefined;
  // A server that waits for a service we can start throwaway inside its sandbox: start it there, once.
  const start = d.service ? throwawayService(d.service) : undefined;
  if (start && tried.sandboxed && !tried.args.has(`service ${d.service}`)) {
    tried.args.add(`service ${d.service}`);
    // sh -c '<start>; exec "$@"' <name> <command> <args…>: the server's own arguments start at index 4.
    return {
      launch: {
        ...cur,
        command: "/bin/sh",
        args: ["-c", `${start}; exec "$@"`, "mcp-census-service", cur.command, ...cur.args],
        ...(cur.subcommandAt !== undefined ? { subcommandAt: cur.subcommandAt + 4 } : {}),
        record: { ...cur.record, services: [`${d.service} (throwaway, empty, inside the sandbox)`] },
      },
      added: { service: d.service, because: d.evidence ?? "" },
    };
  }
  const newEnv = d.env.filter((n) => !(n in cur.env));
  // A placeholder refused with a list of allowed values: use the first one for the placeholders just given.
  if (d.valueChoices && !tried.args.has(`choices ${d.valueChoices.join(",")}`)) {
    tried.args.add(`choices ${d.valueChoices.join(",")}`);
    const last = tried.lastEnv.filter((k) => cur.env[k] === PLACEHOLDER_SECRET);
    if (last.length) {
      const env = { ...cur.env };
      for (const k of last) env[k] = d.valueChoices[0]!;
      return {
        launch: { ...cur, env },
        added: { env: last, because: `placeholder refused; one of ${d.valueChoices.join(", ")}` },
      };
    }
  }
  // A placeholder was refused for its shape ("Expected sk_*"): give the same placeholders that prefix, once.
  if (d.keyPrefix && !tried.args.has(`prefix ${d.keyPrefix}`)) {
    tried.args.add(`prefix ${d.keyPrefix}`);
    const reshaped = Object.keys(cur.env).filter((k) => cur.env[k] === PLACEHOLDER_SECRET);
    if (reshaped.length && !newEnv.length) {
      const env = { ...cur.env };
      for (const k of reshaped) env[k] = `${d.keyPrefix}${PLACEHOLDER_SECRET}`;
      return {
        launch: { ...cur, env },
        added: { env: reshaped, because: `placeholder refused for its shape; retried as ${d.keyPrefix}…` },
      };
    }
  }
  // "Elasticsearch URL cannot be empty" names no variable: the package's own code may (process.env.ES_URL).
  if (
    !newEnv.length &&
    !d.args &&
    d.missingValue &&
    cur.sourceFile &&
    !tried.args.has(`source ${d.missingValue.noun}`)
  ) {
    tried.args.add(`source ${d.missingValue.noun}`);
    const fromSource = envNamesInSource(readSource(cur.sourceFile), d.missingValue.noun).filter((n) => !(n in cur.env));
    if (fromSource.length) {
      newEnv.push(...fromSource);
      d.evidence = `${d.missingValue.evidence} (the package reads ${fromSource.join(", ")})`;
    }
  }
  let args = cur.args;
  let addedArgs: string[] | undefined;
  if (d.args && !tried.args.has(d.args.add.join(" "))) {
    tried.args.add(d.args.add.join(" "));
    addedArgs = d.args.add;
    const sub = addedArgs.length === 1 && /^[a-z][\w-]*$/i.test(addedArgs[0]!);
    if (sub && cur.subcommandAt !== undefined) {
      args = [...args.slice(0, cur.subcommandAt), ...addedArgs, ...args.slice(cur.subcommandAt)];
    } else if (!sub) {
      args = [...args, ...addedArgs];
    } else {
      addedArgs = undefined;
    }
  }
  if (!newEnv.length && !addedArgs) return undefined;
  const env = { ...cur.env, ...placeholderEnv(newEnv, scratch) };
  const recordEnv = { ...((cur.record.env as Record<string, string>) ?? {}) };
  for (const n of newEnv) recordEnv[n] = "<placeholder>";
  return {
    launch: {
      ...cur,
      args,
      env,
      record: {
        ...cur.record,
        env: recordEnv,
        command: [...((cur.record.command as string[]) ?? []).slice(0, 1), ...args.map(maskSecret)],
      },
    },
    added: {
      ...(newEnv.length ? { env: newEnv } : {}),
      ...(addedArgs ? { args: addedArgs.map(maskSecret) } : {}),
      because: (addedArgs ? d.args?.because : d.evidence) ?? "",
    },
  };
}

/** The dependencies an installed package declares (names only matter). */
function dependenciesOf(packageDir: string): Record<string, unknown> | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { dependencies?: unknown };
    return pkg.dependencies && typeof pkg.dependencies === "object"
      ? (pkg.dependencies as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A launched script's text, capped (a bundled server can be large), for names only. */
function readSource(file: string): string {
  try {
    const buf = readFileSync(file);
    return buf.subarray(0, 8 * 1024 * 1024).toString("utf8");
  } catch {
    return "";
  }
}

function maskSecret(a: string): string {
  return a.includes(PLACEHOLDER_SECRET) ? a.replace(PLACEHOLDER_SECRET, "<placeholder>") : a;
}

/** Names the real cause of a launch that still failed after its retries, from what the server last said. */
function finalOutcome(out: ProbeResult, said: AttemptText, d: Diagnosis, cur: StdioLaunch): void {
  if (out.outcome === "timeout" && d.service) {
    out.outcome = "needs_service";
    out.error = `needs ${d.service === "network" ? "network access" : `a running ${d.service}`} at start and never answered initialize${d.evidence ? `: ${d.evidence}` : ""}`;
    out.launch.needs = { service: d.service };
    return;
  }
  if (out.outcome === "ok" || out.outcome === "timeout" || out.outcome === "install_failed") return;
  if (out.outcome === "internal_error" || out.outcome === "sandbox_unavailable") return;
  if (out.outcome === "needs_config" && said.listening) {
    out.launch.needs = { transport: "stdio", listening: said.listening };
    return;
  }
  if (d.needsNode) {
    out.outcome = "unsupported_runtime";
    out.error = `needs Node.js ${d.needsNode} or later (this probe runs Node.js ${process.versions.node})`;
    out.launch.needs = { node: d.needsNode };
    return;
  }
  if (d.service) {
    out.outcome = "needs_service";
    out.error = `needs ${d.service === "network" ? "network access" : `a running ${d.service}`} at start${d.evidence ? `: ${d.evidence}` : ""}`;
    out.launch.needs = { service: d.service };
    return;
  }
  if (d.env.length || d.args) {
    out.outcome = "needs_config";
    const given = d.env.filter((n) => n in cur.env);
    const parts = [
      d.env.length ? `environment ${d.env.join(", ")}` : "",
      d.args ? `arguments (${d.args.because})` : "",
    ].filter(Boolean);
    out.error = `asks for ${parts.join(" and ")}${given.length ? "; placeholders for them were not enough" : ""}${d.evidence && !d.args ? `: ${d.evidence}` : ""}`;
    out.launch.needs = {
      ...(d.env.length ? { env: d.env } : {}),
      ...(d.args ? { args: d.args.add.map(maskSecret) } : {}),
    };
    return;
  }
  if (d.missingValue && (out.outcome === "crashed" || out.outcome === "protocol_error")) {
    out.outcome = "needs_config";
    out.error = `asks for a ${d.missingValue.noun} without naming its variable: ${d.missingValue.evidence}`;
    out.launch.needs = { value: d.missingValue.noun };
    return;
  }
  if (said.silent && (out.outcome === "crashed" || out.outcome === "protocol_error")) {
    out.error = `${out.error ?? "server exited"}, with no output on stdout or stderr`;
  }
}

/** Launches a stdio server, retrying (at most MAX_ATTEMPTS in all) with what it says it is missing. */
async function probeStdio(
  launch: StdioLaunch,
  out: ProbeResult,
  opts: ProbeOptions,
  signal: AbortSignal,
): Promise<void> {
  const sandbox = opts.forceUnsandboxed ? { ok: false, reason: "unsandboxed run requested" } : await sandboxAvailable();
  if (!sandbox.ok && !opts.allowUnsandboxed) {
    out.outcome = "sandbox_unavailable";
    out.error = `${sandbox.reason}; refusing to run it unsandboxed (set allowUnsandboxed to override)`;
    return;
  }
  // The working folder and HOME: an empty one, never the user's (sandboxed: a tmpfs inside bwrap).
  const scratch = sandbox.ok ? SANDBOX_HOME : mkdtempSync(join(tmpdir(), "mcp-census-home-"));
  const warnings = [...out.warnings];
  if (!sandbox.ok) warnings.push(`ran without a sandbox: ${sandbox.reason}`);
  const placeholders = new Set(out.placeholders);
  const attempts: Record<string, unknown>[] = [];
  // Throwaway services start only inside a sandbox (never on the host's own ports).
  const tried = { switches: [] as string[][], args: new Set<string>(), lastEnv: [] as string[], sandboxed: sandbox.ok };
  let cur = launch;
  try {
    for (let i = 0; ; i++) {
      const attempt = emptyResult("stdio");
      attempt.startedAt = out.startedAt;
      attempt.timings = { ...out.timings };
      const said = await runAttempt(cur, attempt, opts, signal, scratch);
      // The last attempt is the result: nothing of an earlier one (its error, its stderr) may linger.
      for (const k of Object.keys(out)) delete (out as unknown as Record<string, unknown>)[k];
      Object.assign(out, attempt);
      if (attempt.outcome === "ok" || signal.aborted) break;
      const d = diagnose(said.text, scratch, PLACEHOLDER_SECRET);
      // A server that exited saying nothing: the database client it depends on is all that names a service.
      if (!d.service && said.quiet && attempt.outcome === "crashed" && cur.clientOf) {
        d.service = cur.clientOf.service;
        d.evidence = `exited saying nothing; its package depends on ${cur.clientOf.client}, a ${cur.clientOf.service} client`;
      }
      const next = i + 1 < MAX_ATTEMPTS ? nextLaunch(cur, said, d, tried, scratch) : undefined;
      if (!next) {
        finalOutcome(out, said, d, cur);
        break;
      }
      attempts.push({ outcome: attempt.outcome, ...next.added });
      tried.lastEnv = (next.added.env as string[] | undefined) ?? [];
      for (const n of tried.lastEnv) placeholders.add(n);
      for (const a of (next.added.args as string[] | undefined) ?? []) placeholders.add(`argument ${a}`);
      cur = next.launch;
    }
  } finally {
    // Safe to ignore: removing the unsandboxed run's temporary home (force: a missing one is no error); a leftover
    // in the temp folder holds only placeholder values and is not reused.
    if (!sandbox.ok) await rm(scratch, { recursive: true, force: true }).catch(() => {});
  }
  out.warnings = [...warnings, ...out.warnings.filter((w) => !warnings.includes(w))];
  out.placeholders = [...placeholders];
  if (attempts.length) out.launch.attempts = attempts;
}

function classifyStdioFailure(
  err: unknown,
  transport: TolerantStdioTransport,
  out: ProbeResult,
  deadline: AbortSignal,
  userSignal?: AbortSignal,
): void {
  const s = transport.stats;
  const garbageOnly = s.messages === 0 && s.nonProtocolLines > 0;
  const garbageNote = s.firstNonProtocolLine
    ? `; first stdout line: ${JSON.stringify(s.firstNonProtocolLine.slice(0, 120))}`
    : "";
  if (s.limitExceeded) {
    out.outcome = "protocol_error";
    out.error = `${s.limitExceeded}; stopped`;
  } else if (s.spawnError) {
    out.outcome = "crashed";
    out.error = `cannot start the server: ${s.spawnError}`;
  } else if (deadline.aborted) {
    if (userSignal?.aborted) {
      out.outcome = "timeout";
      out.error = "probe cancelled";
    } else if (garbageOnly) {
      out.outcome = "protocol_error";
      out.error = `no JSON-RPC answer; stdout held ${s.nonProtocolLines} non-protocol lines${garbageNote}`;
    } else {
      out.outcome = "timeout";
      const stage = out.protocolVersion ? "listing" : "initialize";
      out.error = `no complete answer within the time limit (stuck in ${stage})`;
    }
  } else if (err instanceof RpcError) {
    const answer = `server answered ${out.protocolVersion ? "a list request" : "initialize"} with error ${err.rpcCode}: ${err.message}`;
    // "fetch failed", "ECONNREFUSED …:5432": a server that lists from a backend it cannot reach, not a protocol fault.
    const service = serviceNeeded(err.message);
    out.outcome = service ? "needs_service" : "protocol_error";
    out.error = service
      ? `needs ${service.service === "network" ? "network access" : `a running ${service.service}`} to list: ${answer}`
      : answer;
  } else if (err instanceof ListingError) {
    out.outcome = "protocol_error";
    out.error = err.message;
  } else if (err instanceof ConnectionClosedError || s.exitCode !== undefined) {
    const native = looksLikeMissingNativeBuild(transport.stderr);
    if (native) {
      out.outcome = "install_failed";
      out.error = `needs its install scripts (a native module was not built): ${native}`;
    } else if (garbageOnly) {
      out.outcome = "protocol_error";
      out.error = `exited without a JSON-RPC answer; stdout held ${s.nonProtocolLines} non-protocol lines${garbageNote}`;
    } else {
      out.outcome = "crashed";
      const how = s.exitSignal ? `signal ${s.exitSignal}` : `exit code ${s.exitCode ?? "unknown"}`;
      const stage = out.protocolVersion ? "while listing" : "before answering initialize";
      out.error = `server exited ${stage} (${how})`;
    }
  } else if (isOwnBug(err)) {
    // A TypeError or the like thrown by our code is not the server's protocol error.
    out.outcome = "internal_error";
    out.error = `internal error while probing (not the server's fault): ${oneLine(err)}`;
  } else {
    out.outcome = "protocol_error";
    out.error = oneLine(err);
  }
}

/** Programming errors of ours, as opposed to anything a server can cause. */
function isOwnBug(err: unknown): boolean {
  return (
    err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError || err instanceof SyntaxError
  );
}

/**
 * Runs a command to its end without blocking the event loop (a `docker pull` can take minutes: a worker that blocked
 * on it could not renew its job locks, and its jobs were taken for stalled and run twice). Resolves with the exit
 * status, or null when it could not start or was killed at the timeout.
 */
function runQuiet(command: string, args: string[], timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "ignore", timeout: timeoutMs, killSignal: "SIGKILL" });
    child.once("error", () => resolve(null));
    child.once("close", (code) => resolve(code));
  });
}

async function hasCommand(name: string): Promise<boolean> {
  return (await runQuiet("sh", ["-c", `command -v ${name}`], 10_000)) === 0;
}

/** The container engine that works here, or why none does. */
async function containerEngine(): Promise<{ engine?: string; reason: string }> {
  for (const engine of ["docker", "podman"]) {
    if (!(await hasCommand(engine))) continue;
    if ((await runQuiet(engine, ["info", "--format", "{{.ServerVersion}}"], 10_000)) === 0)
      return { engine, reason: "" };
    return { reason: `${engine} is installed but its daemon is not reachable` };
  }
  return { reason: "no docker or podman on PATH" };
}

/** Packages are launched locally over stdio only: any other declared transport is recorded as unsupported. */
function refusedTransport(pkg: PackageSpec, kind: string, out: ProbeResult): boolean {
  const transportType = pkg.transport?.type ?? "stdio";
  if (transportType === "stdio") return false;
  out.outcome = "unsupported_runtime";
  out.error = `${kind} with ${transportType} transport: only stdio packages are launched locally`;
  return true;
}

async function probeNpm(
  pkg: PackageSpec,
  out: ProbeResult,
  opts: ProbeOptions,
  startClock: (mode?: "restart") => AbortSignal,
): Promise<void> {
  if (refusedTransport(pkg, "npm package", out)) return;
  const ti = performance.now();
  let installed: Awaited<ReturnType<typeof installNpmPackage>>;
  try {
    installed = await installNpmPackage(pkg.identifier, pkg.version, {
      cacheDir: opts.cacheDir,
      timeoutMs: opts.installTimeoutMs,
      allowInstallScripts: opts.allowInstallScripts,
      resolveFrom: opts.resolveFrom,
      signal: opts.signal,
    });
  } catch (err) {
    out.outcome = "install_failed";
    out.error = err instanceof InstallError ? err.message : `install failed: ${oneLine(err)}`;
    out.timings.installMs = Math.round(performance.now() - ti);
    return;
  }
  out.timings.installMs = Math.round(performance.now() - ti);
  out.warnings.push(...installed.warnings);
  const built = buildCommand(pkg);
  out.placeholders = built.placeholders.filter((n) => !(opts.env && n in opts.env));
  out.warnings.push(...built.notes);
  const { flags, ignored } = nodeFlagsFrom(built.runtimeArgs);
  const packageArgs = opts.args ?? built.packageArgs;
  const args = [...flags, installed.binPath, ...packageArgs];
  const { env, record: envRecord } = withUserEnv(built.env, built.envForRecord, opts.env);
  // One launch of the installed bin with a given Node.js; only the runtime and what the record says about install
  // scripts differ between tries.
  const launch = (runtime: NodeRuntime, scripts: Record<string, unknown>): StdioLaunch => ({
    command: runtime.command,
    args,
    env: runtime.binDir ? { PATH: `${runtime.binDir}:${baseEnv("", "").PATH}`, ...env } : env,
    cwd: installed.rootDir,
    visible: [installed.rootDir, ...(runtime.dir ? [runtime.dir] : [])],
    subcommandAt: flags.length + 1,
    sourceFile: installed.binPath,
    ...(clientOf ? { clientOf } : {}),
    record: {
      package: `${installed.name}@${installed.version}`,
      bin: installed.binName,
      command: ["node", ...args],
      env: envRecord,
      fromCache: installed.fromCache,
      runtime: { node: runtime.version, source: runtime.source },
      ...scripts,
    },
  });
  const clientOf = serviceOfDependencies(dependenciesOf(installed.packageDir));
  const fetchRuntime = opts.fetchNodeRuntime !== false;
  // The Node.js to run it with: ours, unless the package declares it needs a newer one and we may fetch that.
  let runtime = hostRuntime();
  const declared = enginesNode(installed.packageDir);
  const engineMajor = nodeMajorForEngines(declared);
  if (engineMajor && fetchRuntime) {
    const fetched = await fetchNodeRuntime(engineMajor, opts, out);
    if (fetched.runtime) runtime = fetched.runtime;
    else
      out.warnings.push(`engines.node "${declared}" asks for Node.js ${engineMajor}: ${fetched.error}; ran with ours`);
  } else if (engineMajor) {
    out.warnings.push(
      `engines.node "${declared}" asks for Node.js ${engineMajor}; ran with ours (fetchNodeRuntime is off)`,
    );
  }
  const firstScripts = {
    ...(installed.hasInstallScripts ? { installScripts: "skipped" } : {}),
    ...(ignored.length ? { ignoredRuntimeArguments: ignored } : {}),
  };
  await probeStdio(launch(runtime, firstScripts), out, opts, startClock());
  // It said it needs a newer Node.js than the one it ran with: fetch that one and launch once more.
  const askedMajor = (out.launch.needs as { node?: number } | undefined)?.node;
  if (out.outcome === "unsupported_runtime" && askedMajor && runtime.source === "host") {
    if (!fetchRuntime) {
      out.error = `${out.error}; fetchNodeRuntime is off`;
      return;
    }
    const warnings = out.warnings;
    const fetched = await fetchNodeRuntime(askedMajor, opts, out);
    if (!fetched.runtime) {
      out.error = `${out.error}; ${fetched.error}`;
      return;
    }
    runtime = fetched.runtime;
    const before = { ...out.timings };
    Object.assign(out, emptyResult("stdio"), { startedAt: out.startedAt, placeholders: out.placeholders, warnings });
    out.timings = before;
    await probeStdio(launch(runtime, firstScripts), out, opts, startClock("restart"));
  }
  if (out.outcome !== "install_failed" || !/native module was not built/.test(out.error ?? "")) return;
  if (!opts.allowInstallScripts) {
    out.error = `${out.error}; its install scripts were not run (allowInstallScripts is off)`;
    return;
  }
  // Build inside the sandbox: no network, only the install folder writable; then launch once more.
  const tb = performance.now();
  const rebuilt = await rebuildInSandbox(installed.rootDir, out.stderrTail ?? "", opts, runtime);
  out.timings.scriptsMs = Math.round(performance.now() - tb);
  if (!rebuilt.ok) {
    out.error = `${out.error}; running its install scripts in the sandbox failed: ${rebuilt.error}`;
    return;
  }
  const before = { ...out.timings };
  Object.assign(out, emptyResult("stdio"), { startedAt: out.startedAt, placeholders: out.placeholders });
  out.timings = before;
  await probeStdio(launch(runtime, { installScripts: "ran in the sandbox" }), out, opts, startClock());
}

/** Fetches Node.js <major> for a launch (install time counted apart from the probe's clock), or says why not. */
async function fetchNodeRuntime(
  major: number,
  opts: ProbeOptions,
  out: ProbeResult,
): Promise<{ runtime?: NodeRuntime; error?: string }> {
  const t = performance.now();
  try {
    const runtime = await installNodeRuntime(major, {
      cacheDir: opts.cacheDir,
      timeoutMs: opts.installTimeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { runtime };
  } catch (err) {
    return { error: `fetching Node.js ${major} from the npm registry failed: ${oneLine(err)}` };
  } finally {
    out.timings.runtimeInstallMs = Math.round(performance.now() - t);
  }
}

/**
 * A PyPI package: installed (wheels only) into its own virtual environment, then its console script run by the
 * environment's interpreter inside the sandbox, which shows only that environment and the base interpreter.
 */
async function probePyPI(
  pkg: PackageSpec,
  out: ProbeResult,
  opts: ProbeOptions,
  startClock: (mode?: "restart") => AbortSignal,
): Promise<void> {
  if (refusedTransport(pkg, "PyPI package", out)) return;
  const ti = performance.now();
  let installed: Awaited<ReturnType<typeof installPyPIPackage>>;
  try {
    installed = await installPyPIPackage(pkg.identifier, pkg.version, {
      cacheDir: opts.cacheDir,
      timeoutMs: opts.installTimeoutMs,
      signal: opts.signal,
      ...(opts.python ? { python: opts.python } : {}),
      ...(opts.pypiIndexUrl ? { indexUrl: opts.pypiIndexUrl } : {}),
      ...(opts.pypiFindLinks?.length ? { findLinks: opts.pypiFindLinks } : {}),
    });
  } catch (err) {
    // No Python here: another of the entry's launch choices may still work (probeStage moves on).
    out.outcome = err instanceof PythonMissingError ? "unsupported_runtime" : "install_failed";
    out.error = err instanceof InstallError ? err.message : `install failed: ${oneLine(err)}`;
    out.timings.installMs = Math.round(performance.now() - ti);
    return;
  }
  out.timings.installMs = Math.round(performance.now() - ti);
  const built = buildCommand(pkg);
  out.placeholders = built.placeholders.filter((n) => !(opts.env && n in opts.env));
  out.warnings.push(...built.notes);
  // Registries often copy uvx's own options (--from, --with, --directory) and the script name into the package
  // arguments: they describe how uvx finds the script, which the environment already answers.
  const { args: packageArgs, dropped } = launcherArgsDropped(built.packageArgs, [pkg.identifier, installed.scriptName]);
  const args = [installed.scriptPath, ...(opts.args ?? packageArgs)];
  const { env, record: envRecord } = withUserEnv(
    { PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1", PYTHONNOUSERSITE: "1", ...built.env },
    built.envForRecord,
    opts.env,
  );
  await probeStdio(
    {
      command: installed.python,
      args,
      env,
      cwd: installed.venvDir,
      visible: [installed.venvDir, ...(installed.basePrefix ? [installed.basePrefix] : [])],
      subcommandAt: 1,
      record: {
        package: `${installed.name}==${installed.version}`,
        script: installed.scriptName,
        installer: installed.installer,
        command: ["python", ...args],
        env: envRecord,
        fromCache: installed.fromCache,
        ...(built.runtimeArgs.length ? { ignoredRuntimeArguments: built.runtimeArgs } : {}),
        ...(dropped.length && !opts.args ? { ignoredLauncherArguments: dropped } : {}),
      },
    },
    out,
    opts,
    startClock(),
  );
}

/**
 * A git repository holding an npm package: one commit cloned, dependencies installed with scripts off, its build
 * script run in the sandbox, then its bin launched in the sandbox like an npm package's.
 */
async function probeGit(
  pkg: PackageSpec,
  out: ProbeResult,
  opts: ProbeOptions,
  startClock: (mode?: "restart") => AbortSignal,
): Promise<void> {
  const ti = performance.now();
  let installed: Awaited<ReturnType<typeof installGitPackage>>;
  try {
    installed = await installGitPackage(
      { url: pkg.identifier, ...(pkg.version ? { ref: pkg.version } : {}) },
      {
        cacheDir: opts.cacheDir,
        timeoutMs: opts.installTimeoutMs,
        allowPrivateNetwork: opts.allowPrivateNetwork,
        signal: opts.signal,
      },
    );
  } catch (err) {
    out.outcome = "install_failed";
    out.error = err instanceof InstallError ? err.message : `install failed: ${oneLine(err)}`;
    out.timings.installMs = Math.round(performance.now() - ti);
    return;
  }
  out.timings.installMs = Math.round(performance.now() - ti);
  const built = buildCommand(pkg);
  out.placeholders = built.placeholders.filter((n) => !(opts.env && n in opts.env));
  const args = [installed.binPath, ...(opts.args ?? built.packageArgs)];
  const { env, record } = withUserEnv(built.env, built.envForRecord, opts.env);
  await probeStdio(
    {
      command: process.execPath,
      args,
      env,
      cwd: installed.rootDir,
      visible: [installed.rootDir],
      subcommandAt: 1,
      record: {
        repository: pkg.identifier,
        ...(pkg.version ? { ref: pkg.version } : {}),
        commit: installed.commit,
        package: `${installed.name}@${installed.version}`,
        bin: installed.binName,
        build: installed.built ? "ran in the sandbox" : "none",
        ...(installed.hasInstallScripts ? { installScripts: "skipped" } : {}),
        command: ["node", ...args],
        env: record,
        fromCache: installed.fromCache,
      },
    },
    out,
    opts,
    startClock(),
  );
}

/** The installed package a missing native file belongs to (…/node_modules/<name>/build/…). */
export function packageOfNativeError(stderr: string): string | undefined {
  const m =
    /node_modules\/((?:@[^/\s'"]+\/)?[^/\s'"]+)\/(?:build|prebuilds|lib\/binding|binding)/.exec(stderr) ??
    // "Cannot find module './build/Release/x'" names the file relatively: the require stack says whose it is.
    /Require stack:\s*\n-\s*\S*node_modules\/((?:@[^/\s'"]+\/)?[^/\s'"]+)\//.exec(stderr);
  return m?.[1];
}

/**
 * Runs install scripts (`npm rebuild`) for an install folder inside the sandbox: no network, only that folder
 * writable. When the folder is a shared node_modules (not our cache), only the package named by the error is built.
 */
async function rebuildInSandbox(
  rootDir: string,
  stderr: string,
  opts: ProbeOptions,
  runtime: NodeRuntime = hostRuntime(),
): Promise<{ ok: true } | { ok: false; error: string }> {
  const sandbox = opts.forceUnsandboxed ? { ok: false } : await sandboxAvailable();
  if (!sandbox.ok) return { ok: false, error: "no sandbox to run them in (they never run outside one)" };
  const isCacheInstall = rootDir.startsWith(`${resolve(opts.cacheDir)}/`);
  const prefix = isCacheInstall ? rootDir : dirname(rootDir);
  const pkg = packageOfNativeError(stderr);
  if (!isCacheInstall && !pkg) return { ok: false, error: "cannot tell which package's build is missing" };
  const npmCli = realpathSync(await execPathOfNpm());
  // Native modules are built for the Node.js that will load them: a fetched one brings its own headers.
  const nodedir = runtime.nodedir ?? process.env.npm_config_nodedir ?? "/usr";
  const env = {
    ...baseEnv(SANDBOX_HOME, SANDBOX_TMP),
    npm_config_nodedir: nodedir,
    npm_config_cache: `${SANDBOX_HOME}/.npm`,
    npm_config_audit: "false",
    npm_config_fund: "false",
  };
  const cmd = sandboxCommand(
    runtime.command,
    [npmCli, "rebuild", ...(pkg ? [pkg] : []), "--no-bin-links", "--prefix", prefix],
    {
      readOnly: [dirname(dirname(npmCli)), nodedir, ...(runtime.dir ? [runtime.dir] : [])],
      writable: [isCacheInstall ? rootDir : join(rootDir, pkg!)],
      cwd: prefix,
      env,
      memoryLimitMb: Math.max(opts.memoryLimitMb, 2048),
      cpuSeconds: Math.ceil(opts.installTimeoutMs / 1000),
      tmpfsMb: 1024,
    },
  );
  const r = await new Promise<{ status: number | null; output: string }>((done) => {
    const child = spawn(cmd.file, cmd.args, {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (c: Buffer) => {
      output = (output + c.toString()).slice(-8192);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.installTimeoutMs);
    child.on("error", (err) => done({ status: -1, output: err.message }));
    child.on("close", (status) => {
      clearTimeout(timer);
      done({ status, output });
    });
  });
  if (r.status === 0) return { ok: true };
  const lines = r.output.split("\n").map((l) => l.replace(/^npm (error|ERR!)\s*/, "").trim());
  const why =
    lines
      .filter((l) => l && !/complete log|^\d{4}-\d\d-\d\d/i.test(l))
      .slice(-3)
      .join("; ") || `exit ${r.status}`;
  return { ok: false, error: why.slice(0, 300) };
}

/** Where npm is (asked of the shell as a child process, so the event loop is not blocked). */
function execPathOfNpm(): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", "command -v npm"], {
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 10_000,
      killSignal: "SIGKILL",
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.once("error", () => resolve("/usr/bin/npm"));
    child.once("close", () => resolve(out.trim() || "/usr/bin/npm"));
  });
}

/** The user's `-e` values over the registry's and the placeholders; recorded as given, never by value. */
function withUserEnv(
  env: Record<string, string>,
  record: Record<string, string>,
  user: Record<string, string> | undefined,
): { env: Record<string, string>; record: Record<string, string> } {
  if (!user || !Object.keys(user).length) return { env, record };
  const r = { ...record };
  for (const k of Object.keys(user)) r[k] = "<given>";
  return { env: { ...env, ...user }, record: r };
}

async function probeOci(
  pkg: PackageSpec,
  out: ProbeResult,
  opts: ProbeOptions,
  startClock: (mode?: "restart") => AbortSignal,
): Promise<void> {
  const { engine, reason } = await containerEngine();
  if (!engine) {
    out.outcome = "unsupported_runtime";
    out.error = `OCI image ${pkg.identifier}: ${reason}`;
    return;
  }
  const image = pkg.version && !pkg.identifier.includes(":") ? `${pkg.identifier}:${pkg.version}` : pkg.identifier;
  const ti = performance.now();
  const pulled = await runQuiet(engine, ["pull", "--quiet", image], opts.installTimeoutMs);
  out.timings.installMs = Math.round(performance.now() - ti);
  if (pulled !== 0) {
    out.outcome = "install_failed";
    out.error = `${engine} pull ${image} failed`;
    return;
  }
  const built = buildCommand(pkg);
  out.placeholders = built.placeholders;
  // The container engine is the sandbox here: no network, read-only root, capped memory and pids.
  const name = `mcp-census-${process.pid}-${Date.now()}`;
  const envArgs = Object.entries(built.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  const args = [
    "run",
    "--rm",
    "-i",
    "--name",
    name,
    "--network",
    "none",
    "--read-only",
    "--tmpfs",
    "/tmp",
    "--memory",
    `${opts.memoryLimitMb}m`,
    "--pids-limit",
    "256",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    ...envArgs,
    image,
    ...built.packageArgs,
  ];
  try {
    await probeStdio(
      {
        command: engine,
        args,
        env: {},
        cwd: process.cwd(),
        visible: [],
        record: { image, engine, command: [engine, "run", image, ...built.packageArgs], env: built.envForRecord },
      },
      out,
      { ...opts, forceUnsandboxed: true, allowUnsandboxed: true },
      startClock(),
    );
    out.launch.sandbox = engine;
    out.warnings = out.warnings.filter((w) => !w.startsWith("ran without a sandbox"));
  } finally {
    await runQuiet(engine, ["rm", "-f", name], 15_000);
  }
}

/** Launches a package; `startClock` arms the probe's wall clock once installing is done. */
async function probePackage(
  pkg: PackageSpec,
  out: ProbeResult,
  opts: ProbeOptions,
  startClock: (mode?: "restart") => AbortSignal,
): Promise<void> {
  const rt = pkg.registryType.toLowerCase();
  if (rt === "npm") return probeNpm(pkg, out, opts, startClock);
  if (rt === "oci") return probeOci(pkg, out, opts, startClock);
  if (rt === "pypi") return probePyPI(pkg, out, opts, startClock);
  if (rt === "git") return probeGit(pkg, out, opts, startClock);
  out.outcome = "unsupported_runtime";
  if (rt === "mcpb") {
    out.error = `mcpb bundle ${pkg.identifier}: bundles are not supported yet`;
  } else {
    out.error = `unknown registry type ${pkg.registryType}`;
  }
}

/**
 * A local command's paths for the sandbox. Relative paths that exist under `base` (the user's folder) become
 * absolute, since the server starts in an empty scratch folder; each script's own folder is shown read-only unless
 * that folder is the user's working folder or home (then only the file, and a node_modules or package.json beside
 * it), so a `.env` or `.ssh` next to the user is never visible.
 */
export function localPaths(
  command: string,
  args: string[],
  base: string,
): { command: string; args: string[]; visible: string[] } {
  const visible: string[] = [];
  const guarded = new Set([resolve(base), resolve(homedir()), "/", "/root", "/home"]);
  const fix = (a: string): string => {
    if (a.startsWith("-") || /^[a-z][\w+.-]*:\/\//i.test(a)) return a;
    const abs = isAbsolute(a) ? a : /[/.]/.test(a) ? resolve(base, a) : undefined;
    if (!abs || !existsSync(abs) || abs.startsWith("/usr/")) return a;
    const dir = statSync(abs).isDirectory() ? abs : dirname(abs);
    const isGuarded = (d: string) => guarded.has(d) || [...guarded].some((g) => g !== "/" && g.startsWith(`${d}/`));
    visible.push(isGuarded(dir) ? abs : dir);
    // What a script needs from above its folder: the nearest package.json (module type) and node_modules
    // (its dependencies), never the folders themselves.
    let pkgFound = false;
    let nmFound = false;
    for (let d = dir; !(pkgFound && nmFound); d = dirname(d)) {
      if (!pkgFound && existsSync(join(d, "package.json"))) {
        visible.push(join(d, "package.json"));
        pkgFound = true;
      }
      if (!nmFound && existsSync(join(d, "node_modules"))) {
        visible.push(join(d, "node_modules"));
        nmFound = true;
      }
      if (d === dirname(d)) break;
    }
    return abs;
  };
  return { command: fix(command), args: args.map(fix), visible: [...new Set(visible)] };
}

/** Lists one server and never throws for anything the server does: every failure becomes an outcome. */
export async function probe(target: ProbeTarget, opts: ProbeOptions): Promise<ProbeResult> {
  const started = performance.now();
  const out = emptyResult(target.kind === "remote" ? target.remote.type : "stdio");
  // The wall clock starts after install; this controller is armed for the stdio and remote phases. "restart" gives
  // a launch after a second install (a Node.js fetched because the server asked for it) the whole time again.
  let deadline = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const startClock = (mode?: "restart"): AbortSignal => {
    if (mode === "restart" && !opts.signal?.aborted) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (deadline.signal.aborted) deadline = new AbortController();
    }
    const current = deadline;
    timer ??= setTimeout(() => current.abort(new Error("probe timed out")), opts.timeoutMs);
    return current.signal;
  };
  const onUserAbort = () => deadline.abort(new Error("probe cancelled"));
  opts.signal?.addEventListener("abort", onUserAbort, { once: true });
  if (opts.signal?.aborted) onUserAbort();
  try {
    if (target.kind === "remote") {
      out.transport = target.remote.type;
      if (opts.env && Object.keys(opts.env).length)
        out.warnings.push("environment values do not apply to a remote server");
      await probeRemote(target.remote, out, { allowPrivateNetwork: opts.allowPrivateNetwork, signal: startClock() });
    } else if (target.kind === "command") {
      // Relative paths are the user's; the server itself starts in an empty scratch folder unless the target names
      // a working folder of its own (a client config's `cwd`).
      const base = resolve(target.cwd ?? process.cwd());
      const local = localPaths(target.command, target.args, base);
      const env: Record<string, string> = { ...(target.env ?? {}), ...(opts.env ?? {}) };
      const args = [...local.args, ...(opts.args ?? [])];
      await probeStdio(
        {
          command: local.command,
          args,
          env,
          cwd: target.cwd ? base : "",
          visible: target.cwd ? [base, ...local.visible] : local.visible,
          subcommandAt: /^(node|nodejs|python3?|bun|deno|tsx|uv|uvx)$/.test(basename(local.command)) ? 1 : 0,
          // The script an interpreter runs (node server.js): read for variable names, never run here.
          ...(/^(node|nodejs|python3?|bun|deno|tsx)$/.test(basename(local.command)) && local.args[0]
            ? { sourceFile: local.args[0] }
            : {}),
          record: {
            command: [local.command, ...args],
            cwd: target.cwd ? base : "scratch",
            env: Object.keys(env),
          },
        },
        out,
        opts,
        startClock(),
      );
    } else {
      await probePackage(target.pkg, out, opts, startClock);
    }
  } catch (err) {
    // Our own bug, not the server's: still an outcome, with one line, never blamed on the server.
    out.outcome = "internal_error";
    out.error = `internal error while probing (not the server's fault): ${oneLine(err)}`;
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onUserAbort);
  }
  out.warnings = tidyWarnings(out.warnings);
  out.durationMs = Math.round(performance.now() - started);
  return out;
}
