import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Memory and process-count limits for a whole probe (the server and every process it starts, together). A cgroup
 * (v2 when the unified hierarchy has the memory and pids controllers, else v1's memory and pids hierarchies) holds
 * them; without a usable cgroup, `prlimit --nproc` caps the number of processes (per user, so weaker) and the
 * per-process data limit stays the only memory cap. The probe record says which applied.
 */
export interface ProbeLimits {
  kind: "cgroup-v2" | "cgroup-v1" | "prlimit";
  memoryMb: number;
  maxProcesses: number;
  /** Wraps a command so it (and everything it starts) runs inside the limits. */
  wrap(file: string, args: string[]): { file: string; args: string[] };
  /** Extra prlimit flags for the fallback (empty when a cgroup applies). */
  prlimitArgs: string[];
  /** Peak memory of all the probe's processes together, when the cgroup reports it. */
  peakMemoryMb(): number | undefined;
  /** Whether the processes together reached the memory limit (the cgroup refused or reclaimed at least once). */
  memoryLimitHit(): boolean | undefined;
  /** Kills whatever is left in the cgroup and removes it. */
  release(): Promise<void>;
  /** Why a cgroup was not used, for the record. */
  reason?: string;
  /**
   * What actually holds, for the record: memory for all processes together or per process only; processes counted
   * for the whole probe, per user, or not at all (RLIMIT_NPROC never applies to root).
   */
  enforced: { memory: "whole-probe" | "per-process"; processes: "whole-probe" | "per-user" | "none" };
}

const ROOT = "/sys/fs/cgroup";
let counter = 0;
let v2Checked: boolean | undefined;

function write(file: string, value: string): void {
  writeFileSync(file, value);
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function pidsIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, "cgroup.procs"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map(Number)
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Kills every process in a cgroup until it is empty (bounded), then removes it. */
async function emptyAndRemove(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  if (existsSync(join(dir, "cgroup.kill"))) {
    try {
      write(join(dir, "cgroup.kill"), "1");
    } catch {
      // fall through to killing one by one
    }
  }
  for (let i = 0; i < 50; i++) {
    const pids = pidsIn(dir);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    await sleep(20); // the kernel needs a moment to reap before rmdir succeeds
  }
  for (let i = 0; i < 20; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch {
      await sleep(25); // the last exits are still being accounted
    }
  }
}

/**
 * Removes the shared parent folder once no probe uses it. rmdir fails on a folder that still has children (another
 * probe, another process), which is exactly when it must stay; a probe that raced it and lost its parent retries.
 */
function removeParentIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // still used, or already gone
  }
}

/** mkdir for a probe's cgroup; the parent may vanish between its creation and ours (see removeParentIfEmpty). */
function makeCgroup(dir: string): void {
  for (let i = 0; ; i++) {
    try {
      mkdirSync(dir, { recursive: true });
      return;
    } catch (err) {
      if (i >= 2 || (err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
}

/** The shell wrapper that moves itself into the given cgroup.procs files, then execs the command. */
function joinWrapper(procsFiles: string[], file: string, args: string[]): { file: string; args: string[] } {
  return {
    file: "/bin/sh",
    args: [
      "-c",
      'while [ "$1" != "--" ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"',
      "mcp-census-limits",
      ...procsFiles,
      "--",
      file,
      ...args,
    ],
  };
}

function v2Usable(): boolean {
  if (v2Checked !== undefined) return v2Checked;
  v2Checked = false;
  try {
    const controllers = readFileSync(join(ROOT, "cgroup.controllers"), "utf8");
    if (!/\bmemory\b/.test(controllers) || !/\bpids\b/.test(controllers)) return false;
    const enabled = readFileSync(join(ROOT, "cgroup.subtree_control"), "utf8");
    if (!/\bmemory\b/.test(enabled) || !/\bpids\b/.test(enabled))
      write(join(ROOT, "cgroup.subtree_control"), "+memory +pids");
    v2Checked = true;
  } catch {
    v2Checked = false;
  }
  return v2Checked;
}

function tryV2(memoryMb: number, maxProcesses: number): ProbeLimits | undefined {
  if (!v2Usable()) return undefined;
  // One parent per process: its subtree_control is ours to set, and it goes when our last probe does.
  const parent = join(ROOT, `mcp-census-${process.pid}`);
  const dir = join(parent, `probe-${++counter}`);
  try {
    if (!existsSync(parent)) {
      mkdirSync(parent, { recursive: true });
      write(join(parent, "cgroup.subtree_control"), "+memory +pids");
    }
    mkdirSync(dir);
    write(join(dir, "memory.max"), String(memoryMb * 1024 * 1024));
    if (existsSync(join(dir, "memory.swap.max"))) write(join(dir, "memory.swap.max"), "0");
    write(join(dir, "pids.max"), String(maxProcesses));
  } catch {
    void emptyAndRemove(dir).then(() => removeParentIfEmpty(parent));
    return undefined;
  }
  return {
    kind: "cgroup-v2",
    enforced: { memory: "whole-probe", processes: "whole-probe" },
    memoryMb,
    maxProcesses,
    prlimitArgs: [],
    wrap: (file, args) => joinWrapper([join(dir, "cgroup.procs")], file, args),
    peakMemoryMb: () => {
      const peak = readNumber(join(dir, "memory.peak"));
      return peak === undefined ? undefined : Math.round(peak / 1024 / 1024);
    },
    memoryLimitHit: () => {
      try {
        const m = /^max (\d+)/m.exec(readFileSync(join(dir, "memory.events"), "utf8"));
        return m ? Number(m[1]) > 0 : undefined;
      } catch {
        return undefined;
      }
    },
    release: async () => {
      await emptyAndRemove(dir);
      removeParentIfEmpty(parent);
    },
  };
}

function tryV1(memoryMb: number, maxProcesses: number): ProbeLimits | undefined {
  const mem = join(ROOT, "memory");
  const pids = join(ROOT, "pids");
  if (!existsSync(join(mem, "cgroup.procs")) || !existsSync(join(pids, "cgroup.procs"))) return undefined;
  const name = `probe-${process.pid}-${++counter}`;
  const memDir = join(mem, "mcp-census", name);
  const pidsDir = join(pids, "mcp-census", name);
  const parents = () => {
    removeParentIfEmpty(join(mem, "mcp-census"));
    removeParentIfEmpty(join(pids, "mcp-census"));
  };
  try {
    makeCgroup(memDir);
    makeCgroup(pidsDir);
    const bytes = String(memoryMb * 1024 * 1024);
    write(join(memDir, "memory.limit_in_bytes"), bytes);
    // Swap counts too where the kernel accounts it, so the limit cannot be dodged by swapping out.
    if (existsSync(join(memDir, "memory.memsw.limit_in_bytes"))) {
      try {
        write(join(memDir, "memory.memsw.limit_in_bytes"), bytes);
      } catch {
        // swap accounting off: memory alone is limited
      }
    }
    write(join(pidsDir, "pids.max"), String(maxProcesses));
  } catch {
    void Promise.all([emptyAndRemove(memDir), emptyAndRemove(pidsDir)]).then(parents);
    return undefined;
  }
  return {
    kind: "cgroup-v1",
    enforced: { memory: "whole-probe", processes: "whole-probe" },
    memoryMb,
    maxProcesses,
    prlimitArgs: [],
    wrap: (file, args) => joinWrapper([join(memDir, "cgroup.procs"), join(pidsDir, "cgroup.procs")], file, args),
    peakMemoryMb: () => {
      const peak = readNumber(join(memDir, "memory.max_usage_in_bytes"));
      return peak === undefined ? undefined : Math.round(peak / 1024 / 1024);
    },
    memoryLimitHit: () => {
      // failcnt stays 0 on some kernels even when the OOM killer acted; the peak reaching the limit does not lie.
      const n = readNumber(join(memDir, "memory.failcnt"));
      const peak = readNumber(join(memDir, "memory.max_usage_in_bytes"));
      if (n === undefined && peak === undefined) return undefined;
      return (n ?? 0) > 0 || (peak ?? 0) >= memoryMb * 1024 * 1024;
    },
    release: async () => {
      await Promise.all([emptyAndRemove(memDir), emptyAndRemove(pidsDir)]);
      parents();
    },
  };
}

/** Limits for one probe: a fresh cgroup when one can be made here (we run as root), else prlimit's --nproc. */
export function createProbeLimits(memoryMb: number, maxProcesses: number, useCgroup = true): ProbeLimits {
  const viaCgroup = useCgroup ? (tryV2(memoryMb, maxProcesses) ?? tryV1(memoryMb, maxProcesses)) : undefined;
  if (viaCgroup) return viaCgroup;
  // The kernel never applies RLIMIT_NPROC to root's processes (and the sandbox keeps root's real uid), so as root
  // --nproc limits nothing: the record says so instead of claiming a cap.
  const root = process.getuid?.() === 0;
  const why = useCgroup ? "no writable cgroup with memory and pids controllers" : "cgroups turned off";
  return {
    kind: "prlimit",
    enforced: { memory: "per-process", processes: root ? "none" : "per-user" },
    memoryMb,
    maxProcesses,
    prlimitArgs: [`--nproc=${maxProcesses}`],
    wrap: (file, args) => ({ file, args }),
    peakMemoryMb: () => undefined,
    memoryLimitHit: () => undefined,
    release: async () => {},
    reason: root
      ? `${why}; memory is capped per process only, and the process count not at all (RLIMIT_NPROC does not apply to root)`
      : `${why}; memory is capped per process only, processes per user (all of this user's processes count)`,
  };
}
