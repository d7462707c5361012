import { forTerminal } from "../core/terminal.js";

/** Progress of a long run: a live line on a TTY, plain log lines otherwise (CI, pipes). */
export interface Progress {
  start(label: string, total: number): void;
  tick(ok: boolean, note?: string): void;
  log(line: string): void;
  finish(): void;
}

/** A progress reporter writing to a stream; silent when `quiet`. */
export function createProgress(stream: NodeJS.WriteStream | NodeJS.WritableStream, quiet = false): Progress {
  const tty = "isTTY" in stream && !!stream.isTTY;
  let label = "";
  let total = 0;
  let done = 0;
  let failed = 0;
  let started = 0;
  let lastPlain = 0;
  const line = () => {
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta = rate > 0 && total > done ? Math.ceil((total - done) / rate) : 0;
    return `${label}: ${done}/${total} done, ${failed} failed, ${rate.toFixed(2)}/s${eta ? `, ETA ${eta}s` : ""}`;
  };
  return {
    start(l, t) {
      label = l;
      total = t;
      done = 0;
      failed = 0;
      started = Date.now();
      lastPlain = 0;
      if (!quiet && !tty) stream.write(`${label}: ${total} to do\n`);
    },
    tick(ok, note) {
      done++;
      if (!ok) failed++;
      if (quiet) return;
      if (tty) stream.write(`\r\x1b[K${line()}`);
      else if (note) stream.write(`${label} [${done}/${total}] ${forTerminal(note)}\n`);
      else if (Date.now() - lastPlain > 5000 || done === total) {
        lastPlain = Date.now();
        stream.write(`${line()}\n`);
      }
    },
    log(l) {
      if (quiet) return;
      stream.write(tty ? `\r\x1b[K${forTerminal(l)}\n` : `${forTerminal(l)}\n`);
    },
    finish() {
      if (quiet) return;
      if (tty && total > 0) stream.write(`\r\x1b[K${line()}\n`);
      else if (!tty && total > 0 && done !== total) stream.write(`${line()}\n`);
    },
  };
}
