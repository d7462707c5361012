import { hash } from "node:crypto";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { AppError } from "../core/errors.js";

/** Bytes per batch handed to the writer thread, and batches in flight before the renderer waits. */
const BATCH_BYTES = 1 << 20;
const IN_FLIGHT = 8;

/** Content hash used in the manifest (the same as hashContent in state.ts, for encoded bytes). */
const hashBytes = (b: Uint8Array) => hash("sha1", b, "base64url");

/** A file that could not be written: its site path and the reason. */
export interface WriteFailure {
  path: string;
  reason: string;
}

/**
 * Writes the site's files from a separate thread (file-writer.mjs). The renderer encodes each page once into a
 * shared batch buffer, hashes those bytes for the manifest, and either commits them (to be written) or drops them
 * (unchanged); full batches are transferred, not copied, to the writer, with a bounded number in flight.
 */
export class FileSink {
  private readonly worker: Worker;
  private buf = Buffer.allocUnsafeSlow(BATCH_BYTES);
  private off = 0;
  /** Start and end of the staged (encoded, not yet committed) bytes. */
  private stagedAt = 0;
  private stagedEnd = 0;
  private paths: string[] = [];
  private ends: number[] = [];
  private seq = 0;
  private inFlight = 0;
  /** Paths of the batches sent and not yet acknowledged, by batch number. */
  private readonly sent = new Map<number, string[]>();
  private waiters: (() => void)[] = [];
  private fatal: Error | undefined;
  private readonly failures: WriteFailure[] = [];

  constructor(
    private readonly root: string,
    private readonly onFailed: (f: WriteFailure) => void,
  ) {
    // Plain JavaScript with no TypeScript loader: started without the parent's --import flags (tsx), whose loader
    // thread took ~1 s to start under load, which a one-server rebuild waited for at its first flush.
    this.worker = new Worker(new URL("./file-writer.mjs", import.meta.url), { execArgv: [] });
    this.worker.on("message", (m: { seq: number; failed: [string, string][] }) => {
      this.inFlight--;
      this.sent.delete(m.seq);
      for (const [full, reason] of m.failed) {
        const f = { path: full.slice(this.root.length), reason };
        this.failures.push(f);
        this.onFailed(f);
      }
      this.wake();
    });
    this.worker.on("error", (err) => {
      this.fatal ??= err;
      this.wake();
    });
    this.worker.on("exit", (code) => {
      if (code !== 0) this.fatal ??= new Error(`the site's file writer stopped (exit code ${code})`);
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Encodes text into the current batch (replacing anything staged before) and returns its hash and size. */
  stage(text: string): { hash: string; bytes: number } {
    const room = this.buf.length - this.off;
    let n = this.buf.write(text, this.off, "utf8");
    // write() stops before a character that does not fit, so a result this close to the end may be a cut.
    if (n >= room - 3 && n !== Buffer.byteLength(text)) {
      this.send();
      const need = Buffer.byteLength(text);
      if (need > this.buf.length) this.buf = Buffer.allocUnsafeSlow(need);
      n = this.buf.write(text, 0, "utf8");
    }
    this.stagedAt = this.off;
    this.stagedEnd = this.off + n;
    return { hash: hashBytes(this.buf.subarray(this.stagedAt, this.stagedEnd)), bytes: n };
  }

  /** Queues bytes already encoded (and hashed) elsewhere to be written at `path`: copied into the current batch. */
  commitBytes(path: string, bytes: Uint8Array): void {
    if (bytes.length > this.buf.length - this.off) {
      this.send();
      if (bytes.length > this.buf.length) this.buf = Buffer.allocUnsafeSlow(bytes.length);
    }
    this.buf.set(bytes, this.off);
    this.stagedAt = this.off;
    this.stagedEnd = this.off + bytes.length;
    this.commit(path);
  }

  /**
   * Queues whole files encoded elsewhere in one buffer of their own (file i ends at ends[i]): the buffer is handed to
   * the writer thread as it is, not copied (it must start its ArrayBuffer, which is transferred away whole).
   */
  commitBuffer(paths: string[], ends: number[], buf: Uint8Array): void {
    if (!paths.length) return;
    const ab = buf.buffer as ArrayBuffer;
    // A buffer that starts its ArrayBuffer goes whole (the writer reads up to the last end; a tail is left unread).
    if (buf.byteOffset !== 0) {
      let start = 0;
      for (const [i, p] of paths.entries()) {
        this.commitBytes(p, buf.subarray(start, ends[i]));
        start = ends[i]!;
      }
      return;
    }
    // What is queued goes first, so files reach the writer in the order they were committed.
    this.send();
    if (this.fatal) throw this.fatal;
    const full = paths.map((p) => join(this.root, p));
    this.worker.postMessage({ seq: ++this.seq, paths: full, ends, buf: ab }, [ab]);
    this.sent.set(this.seq, full);
    this.inFlight++;
  }

  /** Queues the staged bytes to be written at `path` (relative to the site root). */
  commit(path: string): void {
    this.paths.push(join(this.root, path));
    this.ends.push(this.stagedEnd);
    this.off = this.stagedEnd;
    if (this.off >= this.buf.length - 1024) this.send();
  }

  /** Hands the current batch to the writer thread. */
  private send(): void {
    if (!this.paths.length) {
      this.off = 0;
      return;
    }
    if (this.fatal) throw this.fatal;
    const ab = this.buf.buffer as ArrayBuffer;
    this.worker.postMessage({ seq: ++this.seq, paths: this.paths, ends: this.ends, buf: ab }, [ab]);
    this.sent.set(this.seq, this.paths);
    this.inFlight++;
    this.buf = Buffer.allocUnsafeSlow(BATCH_BYTES);
    this.off = 0;
    this.paths = [];
    this.ends = [];
  }

  /** Waits while too many batches are in flight; throws the first write error. */
  async room(max = IN_FLIGHT): Promise<void> {
    while (this.inFlight > max && !this.fatal) await new Promise<void>((r) => this.waiters.push(r));
    this.check();
  }

  /** Sends what is queued and waits until every file has been written; throws the first write error. */
  async flush(): Promise<void> {
    this.send();
    await this.room(0);
  }

  private check(): void {
    if (this.fatal) throw this.fatal;
    const f = this.failures[0];
    if (f) {
      // A storage error (exit 4) naming the file on disk; the page there keeps its previous content.
      throw new AppError("io_error", `cannot write ${join(this.root, f.path)}: ${f.reason}`);
    }
  }

  /**
   * After a failed build: waits for what can still be written, then returns the site paths that may not be on disk
   * (queued or in flight when the writer stopped), so the manifest can forget them.
   */
  async settle(): Promise<string[]> {
    try {
      await this.flush();
    } catch {
      // Reported by the build already; what is left unconfirmed is returned below.
    }
    const out = [...this.paths];
    for (const l of this.sent.values()) out.push(...l);
    this.paths = [];
    this.ends = [];
    return out.map((full) => full.slice(this.root.length));
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
