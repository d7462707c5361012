/** Stable error codes; edges translate them to exit codes, HTTP statuses and queue retry decisions. */
export type ErrorCode =
  | "bad_input"
  | "not_found"
  | "config_invalid"
  | "db_corrupt"
  | "db_unwritable"
  | "io_error"
  | "network"
  | "unsupported"
  | "internal";

/** An error with a stable code and a one-line message fit to show a user. */
export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = "AppError";
  }
}

/** CLI exit code per error code: 2 bad usage/input, 3 not found, 4 storage, 1 anything else. */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof AppError)) return 1;
  switch (err.code) {
    case "bad_input":
    case "config_invalid":
      return 2;
    case "not_found":
      return 3;
    case "db_corrupt":
    case "db_unwritable":
    case "io_error":
      return 4;
    default:
      return 1;
  }
}

/** One line describing an error, without a stack trace. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s+/g, " ").trim().slice(0, 500);
}
