import { AppError, type ErrorCode } from "../core/errors.js";

/** An error the API answers with a status of its own; `parameter` names the query or path parameter at fault. */
export class ApiError extends AppError {
  readonly parameter: string | undefined;
  constructor(code: ErrorCode, message: string, parameter?: string) {
    super(code, message);
    this.parameter = parameter;
    this.name = "ApiError";
  }
}

/** HTTP status per error code. */
export function statusFor(err: unknown): 400 | 404 | 500 | 501 | 503 {
  if (!(err instanceof AppError)) return 500;
  switch (err.code) {
    case "bad_input":
      return 400;
    case "not_found":
      return 404;
    case "unsupported":
      return 501;
    case "db_corrupt":
    case "db_unwritable":
      return 503;
    default:
      return 500;
  }
}
