import { pino } from "pino";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type Logger = pino.Logger;

/** Where log lines go: anything with write(line). */
export interface LogSink {
  write(line: string): unknown;
}

/**
 * A pino logger. `json` writes pino's JSON lines (one object per line, for collectors); `text` writes the message
 * alone, as a person reads it (warnings and errors prefixed with their level).
 */
export function createLogger(opts: { level?: LogLevel; format?: LogFormat; sink?: LogSink } = {}): Logger {
  const sink = opts.sink ?? process.stderr;
  const level = opts.level ?? "info";
  if (opts.format === "json") return pino({ level, base: { pid: process.pid } }, sink);
  const text: LogSink = {
    write(line: string) {
      const o = JSON.parse(line) as { level: number; msg?: string };
      const tag = o.level >= 50 ? "error: " : o.level >= 40 ? "warning: " : "";
      sink.write(`${tag}${o.msg ?? ""}\n`);
    },
  };
  return pino({ level, base: undefined, timestamp: false }, text);
}

/** The process's logger; the CLI configures it from the settings (logLevel, logFormat) before a command runs. */
export let logger: Logger = createLogger();

/** Replaces the process's logger (the CLI calls this once the config is known). */
export function configureLogger(opts: { level?: LogLevel; format?: LogFormat; sink?: LogSink }): Logger {
  logger = createLogger(opts);
  return logger;
}
