import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { oneLine } from "../core/errors.js";
import { emptyProbeResult, type PackageSpec, type ProbeResult } from "../core/types.js";
import { buildCommand, nodeFlagsFrom, type ProbeTarget } from "./launch.js";
import { ListingError, runListing } from "./listing.js";
import { InstallError, installNpmPackage, looksLikeMissingNativeBuild } from "./npm-install.js";
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
}

/** Spawns a stdio server (sandboxed unless allowed otherwise), lists it, and kills its whole process tree. */
async function probeStdio(
  launch: StdioLaunch,
  out: ProbeResult,
  opts: ProbeOptions,
  signal: AbortSignal,
): Promise<void> {
  const sandbox = opts.forceUnsandboxed ? { ok: false, reason: "unsandboxed run requested" } : sandboxAvailable();
  if (!sandbox.ok && !opts.allowUnsandboxed) {
    out.outcome = "sandbox_unavailable";
    out.error = `${sandbox.reason}; refusing to run it unsandboxed (set allowUnsandboxed to override)`;
    return;
  }
  const cpuSeconds = Math.ceil(opts.timeoutMs / 1000) + 5;
  const sandboxed = sandbox.ok;
  const env = sandboxed
    ? { ...baseEnv(SANDBOX_HOME, SANDBOX_TMP), ...launch.env }
    : { ...baseEnv(launch.cwd, launch.cwd), ...launch.env };
  if (!sandboxed) {
    // Outside the sandbox HOME must still not be the user's: give a throwaway one.
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const home = mkdtempSync(resolve(tmpdir(), "mcp-census-home-"));
    env.HOME = home;
    env.TMPDIR = home;
  }
  const cmd = sandboxed
    ? sandboxCommand(launch.command, launch.args, {
        readOnly: launch.visible,
        cwd: launch.cwd,
        env,
        memoryLimitMb: opts.memoryLimitMb,
        cpuSeconds,
      })
    : unsandboxedCommand(launch.command, launch.args, { memoryLimitMb: opts.memoryLimitMb, cpuSeconds });
  out.launch = { ...launch.record, sandbox: sandboxed ? "bwrap" : "none" };
  if (!sandboxed) out.warnings.push(`ran without a sandbox: ${sandbox.reason}`);

  const transport = new TolerantStdioTransport(cmd.file, cmd.args, {
    env: sandboxed ? { PATH: process.env.PATH ?? "/usr/bin:/bin" } : env,
    cwd: sandboxed ? undefined : launch.cwd,
    limits: opts.stdioLimits,
  });
  const session = new RpcSession(transport);
  const t0 = performance.now();
  try {
    await session.start();
    out.timings.spawnMs = Math.round(performance.now() - t0);
    await runListing(session, out, signal);
    out.timings.spawnToListedMs = Math.round(performance.now() - t0);
    out.outcome = "ok";
  } catch (err) {
    // Let the process finish dying so exit status and stderr are complete before judging.
    if (!signal.aborted) await Promise.race([transport.whenExited(), new Promise((r) => setTimeout(r, 300).unref())]);
    classifyStdioFailure(err, transport, out, signal, opts.signal);
  } finally {
    const tc = performance.now();
    await session.close();
    out.timings.closeMs = Math.round(performance.now() - tc);
    if (!sandboxed && env.HOME && env.HOME !== launch.cwd) {
      const { rm } = await import("node:fs/promises");
      await rm(env.HOME, { recursive: true, force: true }).catch(() => {});
    }
  }
  const tail = transport.stderr;
  if (tail.trim()) out.stderrTail = tail;
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
    out.outcome = "protocol_error";
    out.error = `server answered ${out.protocolVersion ? "a list request" : "initialize"} with error ${err.code}: ${err.message}`;
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
  } else {
    out.outcome = "protocol_error";
    out.error = oneLine(err);
  }
}

function hasCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

/** The container engine that works here, or why none does. */
function containerEngine(): { engine?: string; reason: string } {
  for (const engine of ["docker", "podman"]) {
    if (!hasCommand(engine)) continue;
    const r = spawnSync(engine, ["info", "--format", "{{.ServerVersion}}"], { stdio: "ignore", timeout: 10_000 });
    if (r.status === 0) return { engine, reason: "" };
    return { reason: `${engine} is installed but its daemon is not reachable` };
  }
  return { reason: "no docker or podman on PATH" };
}

async function probeNpm(
  pkg: PackageSpec,
  out: ProbeResult,
  opts: ProbeOptions,
  startClock: () => AbortSignal,
): Promise<void> {
  const transportType = pkg.transport?.type ?? "stdio";
  if (transportType !== "stdio") {
    out.outcome = "unsupported_runtime";
    out.error = `npm package with ${transportType} transport: only stdio packages are launched locally`;
    return;
  }
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
  out.placeholders = built.placeholders;
  out.warnings.push(...built.notes);
  const { flags, ignored } = nodeFlagsFrom(built.runtimeArgs);
  const args = [...flags, installed.binPath, ...built.packageArgs];
  await probeStdio(
    {
      command: process.execPath,
      args,
      env: built.env,
      cwd: installed.rootDir,
      visible: [installed.rootDir],
      record: {
        package: `${installed.name}@${installed.version}`,
        bin: installed.binName,
        command: ["node", ...args],
        env: built.envForRecord,
        fromCache: installed.fromCache,
        ...(ignored.length ? { ignoredRuntimeArguments: ignored } : {}),
      },
    },
    out,
    opts,
    startClock(),
  );
}

async function probeOci(
  pkg: PackageSpec,
  out: ProbeResult,
  opts: ProbeOptions,
  startClock: () => AbortSignal,
): Promise<void> {
  const { engine, reason } = containerEngine();
  if (!engine) {
    out.outcome = "unsupported_runtime";
    out.error = `OCI image ${pkg.identifier}: ${reason}`;
    return;
  }
  const image = pkg.version && !pkg.identifier.includes(":") ? `${pkg.identifier}:${pkg.version}` : pkg.identifier;
  const ti = performance.now();
  const pull = spawnSync(engine, ["pull", "--quiet", image], { timeout: opts.installTimeoutMs, stdio: "ignore" });
  out.timings.installMs = Math.round(performance.now() - ti);
  if (pull.status !== 0) {
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
    spawnSync(engine, ["rm", "-f", name], { stdio: "ignore", timeout: 15_000 });
  }
}

/** Launches a package; `startClock` arms the probe's wall clock once installing is done. */
async function probePackage(
  pkg: PackageSpec,
  out: ProbeResult,
  opts: ProbeOptions,
  startClock: () => AbortSignal,
): Promise<void> {
  const rt = pkg.registryType.toLowerCase();
  if (rt === "npm") return probeNpm(pkg, out, opts, startClock);
  if (rt === "oci") return probeOci(pkg, out, opts, startClock);
  out.outcome = "unsupported_runtime";
  if (rt === "pypi") {
    const runner = ["uvx", "pipx"].find(hasCommand);
    out.error = runner
      ? `PyPI package ${pkg.identifier}: ${runner} is present but sandboxed PyPI launches are not implemented yet`
      : `PyPI package ${pkg.identifier}: neither uvx nor pipx is installed`;
  } else if (rt === "mcpb") {
    out.error = `mcpb bundle ${pkg.identifier}: bundles are not supported yet`;
  } else {
    out.error = `unknown registry type ${pkg.registryType}`;
  }
}

/** Splits a local command's arguments into the paths the sandbox must show (absolute existing paths). */
function visiblePathsFor(command: string, args: string[], cwd: string): string[] {
  const out = [cwd];
  for (const a of [command, ...args]) {
    if (isAbsolute(a) && existsSync(a) && !a.startsWith("/usr/")) out.push(a);
  }
  return out;
}

/** Lists one server and never throws for anything the server does: every failure becomes an outcome. */
export async function probe(target: ProbeTarget, opts: ProbeOptions): Promise<ProbeResult> {
  const started = performance.now();
  const out = emptyResult(target.kind === "remote" ? target.remote.type : "stdio");
  // The wall clock starts after install; this controller is armed for the stdio and remote phases.
  const deadline = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const startClock = (): AbortSignal => {
    timer ??= setTimeout(() => deadline.abort(new Error("probe timed out")), opts.timeoutMs);
    return deadline.signal;
  };
  const onUserAbort = () => deadline.abort(new Error("probe cancelled"));
  opts.signal?.addEventListener("abort", onUserAbort, { once: true });
  if (opts.signal?.aborted) onUserAbort();
  try {
    if (target.kind === "remote") {
      out.transport = target.remote.type;
      await probeRemote(target.remote, out, { allowPrivateNetwork: opts.allowPrivateNetwork, signal: startClock() });
    } else if (target.kind === "command") {
      const cwd = resolve(target.cwd ?? process.cwd());
      const env: Record<string, string> = { ...(target.env ?? {}) };
      await probeStdio(
        {
          command: target.command,
          args: target.args,
          env,
          cwd,
          visible: visiblePathsFor(target.command, target.args, cwd),
          record: { command: [target.command, ...target.args], cwd, env: Object.keys(env) },
        },
        out,
        opts,
        startClock(),
      );
    } else {
      await probePackage(target.pkg, out, opts, startClock);
    }
  } catch (err) {
    // Our own bug, not the server's: still an outcome, with one line.
    out.outcome = "protocol_error";
    out.error = `internal error while probing: ${oneLine(err)}`;
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onUserAbort);
  }
  out.warnings = tidyWarnings(out.warnings);
  out.durationMs = Math.round(performance.now() - started);
  return out;
}
