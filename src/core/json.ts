/**
 * JSON from files and pages we do not trust: a nesting limit checked before parsing (a document nested 20,000 levels
 * deep overflowed the stack of whatever walked it next), and error messages that say where and what kind of mistake
 * — never the bytes found there (a seed symlinked to /etc/shadow printed "root:*:202" in the error).
 */

import { AppError } from "./errors.js";

/** Deepest nesting accepted: server.json entries, configs and lock files are a few levels deep. */
export const MAX_JSON_DEPTH = 256;

/** Why a text is not JSON we accept, with where (1-based line and column); never quotes the text. Bad input. */
export class JsonTextError extends AppError {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    options?: { cause?: unknown },
  ) {
    super("bad_input", `${reason} at line ${line}, column ${column}`, options);
    this.name = "JsonTextError";
  }
}

function lineColumn(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos);
  return { line: before.split("\n").length, column: pos - before.lastIndexOf("\n") };
}

/** The first position where brackets nest deeper than `max` (strings skipped), or -1. */
function tooDeepAt(text: string, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

/** V8's JSON.parse messages mapped to a reason without the quoted text they carry. */
function reasonOf(message: string): string {
  if (/end of JSON input|Unterminated string/i.test(message)) return "unexpected end of input";
  if (/Bad control character/i.test(message)) return "control character in a string";
  if (/Bad (escaped character|Unicode escape)/i.test(message)) return "bad escape in a string";
  if (/non-whitespace character after JSON/i.test(message)) return "more text after the JSON value";
  // "Expected ',' or '}' after property value in JSON at position 6": grammar only, no text of the document.
  if (/^Expected [^"]* in JSON at position \d+$/.test(message)) return message.replace(/ in JSON at position \d+$/, "");
  return "unexpected character";
}

/**
 * Parses untrusted JSON text. Throws JsonTextError naming the line and column and the kind of mistake (or that it
 * nests deeper than `maxDepth`), never a piece of the text.
 */
export function parseUntrustedJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  const deep = tooDeepAt(text, maxDepth);
  if (deep >= 0) {
    const { line, column } = lineColumn(text, deep);
    throw new JsonTextError(`nested more than ${maxDepth} levels deep`, line, column);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const m = /at position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : /end of JSON input/i.test(msg) ? text.length : 0;
    const { line, column } = lineColumn(text, pos);
    // No cause on purpose: V8's message quotes the text around the mistake, which this error must never carry.
    throw new JsonTextError(reasonOf(msg), line, column);
  }
}
