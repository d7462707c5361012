import { type ChildProcess, spawn } from "node:child_process";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

export interface StdioLimits {
  /** Total bytes read from stdout before the server is stopped. */
  maxStdoutBytes: number;
  /** Longest single line (one JSON-RPC message). */
  maxLineBytes: number;
  /** Total bytes read from stderr before the server is stopped (only a tail is kept). */
  maxStderrBytes: number;
  /** Bytes of stderr kept for the crash report. */
  stderrTailBytes: number;
  /** Bytes of non-protocol stdout lines kept (servers print their reasons there too). */
  stdoutTextTailBytes: number;
}

export const DEFAULT_STDIO_LIMITS: StdioLimits = {
  maxStdoutBytes: 96 * 1024 * 1024,
  maxLineBytes: 32 * 1024 * 1024,
  maxStderrBytes: 16 * 1024 * 1024,
  stderrTailBytes: 4096,
  stdoutTextTailBytes: 4096,
};

/** What the process did besides speaking JSON-RPC; read by the probe to pick an outcome. */
export interface StdioStats {
  stdoutBytes: number;
  stderrBytes: number;
  messages: number;
  /** Lines on stdout that were not JSON-RPC (log lines, garbage). */
  nonProtocolLines: number;
  firstNonProtocolLine?: string;
  /** Set when a size limit stopped the server. */
  limitExceeded?: string;
  spawnError?: string;
  exitCode?: number | null;
  exitSignal?: string | null;
}

/** Process groups still alive, killed if we exit first so no server outlives the probe. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const pgid of liveGroups) killGroup(pgid, "SIGKILL");
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function isJsonRpc(v: unknown): v is JSONRPCMessage {
  if (!v || typeof v !== "object" || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  if (typeof o.method === "string") return true;
  return "id" in o && ("result" in o || "error" in o);
}

/**
 * A stdio client transport that tolerates what real servers print: non-JSON log lines on stdout are counted and
 * skipped (the SDK's transport reports each as an error and caps lines at 10 MB), sizes are capped, the server runs
 * in its own process group and closing kills the whole group.
 */
export class TolerantStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Called with each complete line the server wrote that is not JSON-RPC (stdout) and each stderr line. */
  ontext?: (line: string, stream: "stdout" | "stderr") => void;

  readonly stats: StdioStats = { stdoutBytes: 0, stderrBytes: 0, messages: 0, nonProtocolLines: 0 };
  private child?: ChildProcess;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private stderrTail = Buffer.alloc(0);
  private stderrPartial = "";
  private stdoutText = "";
  private closed = false;
  private readonly exited: Promise<void>;
  private resolveExited!: () => void;

  constructor(
    private readonly file: string,
    private readonly args: string[],
    private readonly opts: { env: Record<string, string>; cwd?: string; limits?: Partial<StdioLimits> },
  ) {
    this.exited = new Promise((r) => {
      this.resolveExited = r;
    });
  }

  private get limits(): StdioLimits {
    return { ...DEFAULT_STDIO_LIMITS, ...this.opts.limits };
  }

  /** Process id of the launched command (the bwrap or prlimit wrapper), also its process group id. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Last bytes of stderr, for crash reports. */
  get stderr(): string {
    return this.stderrTail.toString("utf8");
  }

  /** Last non-protocol lines the server printed on stdout. */
  get stdoutTextTail(): string {
    return this.stdoutText;
  }

  /** Resolves when the process has exited (or never started). */
  whenExited(): Promise<void> {
    return this.exited;
  }

  async start(): Promise<void> {
    installExitHook();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(this.file, this.args, {
        env: this.opts.env,
        cwd: this.opts.cwd,
        stdio: ["pipe", "pipe", "pipe"],
        detached: true, // own process group, so one kill reaches every descendant that stays in it
      });
      this.child = child;
      child.once("error", (err) => {
        this.stats.spawnError = err.message;
        this.resolveExited();
        reject(err);
      });
      child.once("spawn", () => {
        if (child.pid) liveGroups.add(child.pid);
        resolve();
      });
      child.once("exit", (code, signal) => {
        this.stats.exitCode = code;
        this.stats.exitSignal = signal;
        // Once the server is gone its descendants are strays; they may also hold stdout open and delay "close".
        if (child.pid) killGroup(child.pid, "SIGKILL");
      });
      child.once("close", () => {
        if (child.pid) {
          // Children that stayed in the group but outlived the server die with it.
          killGroup(child.pid, "SIGKILL");
          liveGroups.delete(child.pid);
        }
        this.resolveExited();
        if (!this.closed) {
          this.closed = true;
          this.onclose?.();
        }
      });
      child.stdin?.on("error", () => {
        // EPIPE when the server died; the close event reports it
      });
      child.stdout?.on("data", (chunk: Buffer) => this.onStdout(chunk));
      child.stderr?.on("data", (chunk: Buffer) => this.onStderr(chunk));
    });
  }

  private stopForLimit(reason: string): void {
    if (this.stats.limitExceeded) return;
    this.stats.limitExceeded = reason;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.child?.pid) killGroup(this.child.pid, "SIGKILL");
  }

  private onStderr(chunk: Buffer): void {
    this.stats.stderrBytes += chunk.length;
    const max = this.limits.stderrTailBytes;
    this.stderrTail = Buffer.concat([this.stderrTail, chunk]);
    if (this.stderrTail.length > max) this.stderrTail = this.stderrTail.subarray(this.stderrTail.length - max);
    if (this.ontext) {
      const lines = (this.stderrPartial + chunk.toString("utf8")).split("\n");
      this.stderrPartial = (lines.pop() ?? "").slice(-4096);
      for (const l of lines) if (l.trim()) this.ontext(l.slice(0, 4096), "stderr");
    }
    if (this.stats.stderrBytes > this.limits.maxStderrBytes) {
      this.stopForLimit(`server wrote more than ${this.limits.maxStderrBytes} bytes to stderr`);
    }
  }

  private onStdout(chunk: Buffer): void {
    if (this.stats.limitExceeded) return;
    this.stats.stdoutBytes += chunk.length;
    if (this.stats.stdoutBytes > this.limits.maxStdoutBytes) {
      this.stopForLimit(`server wrote more than ${this.limits.maxStdoutBytes} bytes to stdout`);
      return;
    }
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      const line = this.pending.length ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
      this.pendingBytes = 0;
      this.handleLine(line);
      start = nl + 1;
      if (this.stats.limitExceeded || this.closed) return;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.limits.maxLineBytes) {
        this.stopForLimit(`server wrote a stdout line longer than ${this.limits.maxLineBytes} bytes`);
      }
    }
  }

  private handleLine(buf: Buffer): void {
    const text = buf.toString("utf8").replace(/\r$/, "");
    if (!text.trim()) return;
    let parsed: unknown;
    const looksJson = text.trimStart().startsWith("{");
    if (looksJson) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (isJsonRpc(parsed)) {
      this.stats.messages++;
      this.onmessage?.(parsed);
      return;
    }
    this.stats.nonProtocolLines++;
    this.stats.firstNonProtocolLine ??= text.slice(0, 200);
    const max = this.limits.stdoutTextTailBytes;
    this.stdoutText = `${this.stdoutText}${text.slice(0, max)}\n`;
    if (this.stdoutText.length > max) this.stdoutText = this.stdoutText.slice(this.stdoutText.length - max);
    this.ontext?.(text.slice(0, 4096), "stdout");
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed || this.closed) throw new Error("server process is not running");
    const data = `${JSON.stringify(message)}\n`;
    await new Promise<void>((resolve, reject) => {
      stdin.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Stops the server: stdin closed first (the polite way), then SIGTERM to the group, then SIGKILL.
   * Waits are short because the pid namespace or the final group kill catches whatever ignored the signals.
   */
  async close(graceMs = 500): Promise<void> {
    const child = this.child;
    if (!child?.pid) {
      this.closed = true;
      return;
    }
    const pid = child.pid;
    const wait = (ms: number) =>
      Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    try {
      child.stdin?.end();
    } catch {
      // already closed
    }
    if (!(await wait(graceMs))) {
      killGroup(pid, "SIGTERM");
      if (!(await wait(graceMs))) {
        killGroup(pid, "SIGKILL");
        await wait(2000);
      }
    }
    killGroup(pid, "SIGKILL");
    liveGroups.delete(pid);
    child.stdout?.destroy();
    child.stderr?.destroy();
    if (!this.closed) {
      this.closed = true;
      this.onclose?.();
    }
  }
}
