import { AppError, type ErrorCode, statusFor as statusOfCode } from "../core/errors.js";

/** What an API error may carry beyond its code: a status of its own, a more specific code, and extra fields. */
export interface ApiErrorOptions {
  /** HTTP status when the code's usual one does not fit (429 rate limited, 503 over the time budget). */
  status?: number;
  /** The `code` field of the answer, when more specific than the error code (`rate_limited`, `query_timeout`). */
  apiCode?: string;
  /** Extra fields of the answer (e.g. `suggestions` for a server not found). */
  extra?: Record<string, unknown>;
  /** Response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
}

/** An error the API answers with a status of its own; `parameter` names the query or path parameter at fault. */
export class ApiError extends AppError {
  readonly parameter: string | undefined;
  readonly options: ApiErrorOptions;
  constructor(code: ErrorCode, message: string, parameter?: string, options: ApiErrorOptions = {}) {
    super(code, message);
    this.parameter = parameter;
    this.options = options;
    this.name = "ApiError";
  }
}

/** HTTP status of any thrown value: an ApiError's own status, else its code's (500 for anything unknown). */
export function statusFor(err: unknown): number {
  if (err instanceof ApiError && err.options.status) return err.options.status;
  return statusOfCode(err);
}
