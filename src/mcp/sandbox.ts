import { spawn } from "node:child_process";
import { existsSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";

/** What a sandboxed launch may see and use. */
export interface SandboxPolicy {
  /** Directories (or files) visible read-only at the same path: the package, the script's folder. */
  readOnly: string[];
  /** Directories visible read-write at the same path (only an install folder whose scripts are building). */
  writable?: string[];
  /** Working directory inside the sandbox. */
  cwd: string;
  env: Record<string, string>;
  memoryLimitMb: number;
  cpuSeconds: number;
  /** Size of the throwaway HOME and TMPDIR (tmpfs counts against memory). */
  tmpfsMb?: number;
  /** Further prlimit flags (e.g. --nproc when no cgroup limits the probe). */
  extraLimits?: string[];
}

export const SANDBOX_HOME = "/home/probe";
export const SANDBOX_TMP = "/tmp";

let bwrapChecked: Promise<{ ok: boolean; reason?: string }> | undefined;
let bwrapFile = "bwrap";

/** Test hook: use another bwrap binary (e.g. a missing one) and forget the cached check. */
export function setBwrapPath(file: string): void {
  bwrapFile = file;
  bwrapChecked = undefined;
}

/**
 * Whether bubblewrap can create a sandbox here (checked once per process: it does not change during a run). The
 * check runs bwrap as a child without blocking the event loop, so a worker keeps renewing its job locks meanwhile.
 */
export function sandboxAvailable(): Promise<{ ok: boolean; reason?: string }> {
  bwrapChecked ??= new Promise((done) => {
    const child = spawn(
      bwrapFile,
      [...baseArgs(), "--", "/bin/true"].filter((a) => a !== ""),
      { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000, killSignal: "SIGKILL" },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4096);
    });
    child.once("error", (err) => done({ ok: false, reason: `bubblewrap (bwrap) is not installed: ${err.message}` }));
    child.once("close", (status, signal) => {
      if (status === 0) return done({ ok: true });
      const why = stderr.trim().split("\n")[0] || (signal ? `killed by ${signal}` : `exit ${status}`);
      done({ ok: false, reason: `bubblewrap cannot create a sandbox here: ${why}` });
    });
  });
  return bwrapChecked;
}

/** System directories shared read-only; merged-/usr symlinks are recreated rather than bound. */
function baseArgs(): string[] {
  const args = [
    "--unshare-all", // new ipc, pid, net (loopback only), uts, cgroup namespaces
    "--unshare-user", // explicit, so --disable-userns below is accepted
    "--die-with-parent",
    "--new-session", // no TIOCSTI into our terminal
    "--ro-bind",
    "/usr",
    "/usr",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
  ];
  for (const link of ["bin", "sbin", "lib", "lib64", "lib32", "libx32"]) {
    const p = `/${link}`;
    if (!existsSync(p)) continue;
    try {
      const real = realpathSync(p);
      if (real.startsWith("/usr/")) args.push("--symlink", `usr/${real.slice(5)}`, p);
      else args.push("--ro-bind", p, p);
    } catch {
      // dangling link: nothing to share
    }
  }
  // Only the /etc files a runtime needs to resolve users, time and TLS roots; never the whole of /etc.
  for (const f of [
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/alternatives",
    "/etc/ld.so.cache",
  ]) {
    if (existsSync(f)) args.push("--ro-bind", f, f);
  }
  return args;
}

/** Directories that hold the node runtime when it is not under /usr (nvm, volta, /opt). */
function runtimeDirs(): string[] {
  const exec = realpathSync(process.execPath);
  if (exec.startsWith("/usr/")) return [];
  return [dirname(dirname(exec))];
}

/** Adds a path read-only, skipping ones already covered so bwrap does not stack mounts. */
function addReadOnly(out: string[], seen: Set<string>, path: string): void {
  if (!isAbsolute(path) || !existsSync(path)) return;
  const real = realpathSync(path);
  for (const p of new Set([resolve(path), real])) {
    if (seen.has(p) || p === "/" || p.startsWith("/usr/") || p === "/usr") continue;
    if ([...seen].some((s) => p.startsWith(`${s}/`))) continue;
    seen.add(p);
    out.push("--ro-bind", p, p);
  }
}

/**
 * The full command line for a sandboxed launch: bwrap with no network but loopback, a throwaway HOME and TMPDIR,
 * read-only system directories and only the given paths, then prlimit for memory (data segment, which unlike the
 * address space does not break V8's and WebAssembly's large reservations), CPU seconds, file size and no core dumps.
 */
export function sandboxCommand(
  command: string,
  args: string[],
  policy: SandboxPolicy,
): { file: string; args: string[] } {
  const tmpBytes = String((policy.tmpfsMb ?? 256) * 1024 * 1024);
  const out = [
    ...baseArgs(),
    "--size",
    tmpBytes,
    "--tmpfs",
    SANDBOX_TMP,
    "--size",
    tmpBytes,
    "--tmpfs",
    "/home",
    "--dir",
    SANDBOX_HOME,
    "--disable-userns",
  ];
  const seen = new Set<string>();
  for (const d of [...runtimeDirs(), ...policy.readOnly]) addReadOnly(out, seen, d);
  const cwd = existsSync(policy.cwd) && statSync(policy.cwd).isDirectory() ? policy.cwd : SANDBOX_HOME;
  if (cwd !== SANDBOX_HOME) addReadOnly(out, seen, cwd);
  // Last, so no read-only mount of a parent folder covers them.
  for (const d of policy.writable ?? []) {
    if (isAbsolute(d) && existsSync(d)) out.push("--bind", realpathSync(d), resolve(d));
  }
  out.push("--chdir", cwd, "--clearenv");
  for (const [k, v] of Object.entries(policy.env)) out.push("--setenv", k, v);
  const dataBytes = policy.memoryLimitMb * 1024 * 1024;
  out.push(
    "--",
    "prlimit",
    `--data=${dataBytes}`,
    `--cpu=${policy.cpuSeconds}`,
    `--fsize=${64 * 1024 * 1024}`,
    "--core=0",
    `--nofile=1024`,
    ...(policy.extraLimits ?? []),
    "--",
    command,
    ...args,
  );
  return { file: bwrapFile, args: out };
}

/** The same limits without the sandbox, for explicitly allowed unsandboxed runs. */
export function unsandboxedCommand(
  command: string,
  args: string[],
  policy: Pick<SandboxPolicy, "memoryLimitMb" | "cpuSeconds" | "extraLimits">,
): { file: string; args: string[] } {
  return {
    file: "prlimit",
    args: [
      `--data=${policy.memoryLimitMb * 1024 * 1024}`,
      `--cpu=${policy.cpuSeconds}`,
      "--core=0",
      ...(policy.extraLimits ?? []),
      "--",
      command,
      ...args,
    ],
  };
}

/** Environment every probed server starts from: nothing of ours leaks in (no tokens, no proxies). */
export function baseEnv(home: string, tmp: string): Record<string, string> {
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    TMPDIR: tmp,
    LANG: "C.UTF-8",
    NODE_ENV: "production",
    NO_COLOR: "1",
    npm_config_update_notifier: "false",
    npm_config_offline: "true",
  };
}
