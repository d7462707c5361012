/**
 * Making untrusted text inert for a terminal. Server names, tool names, descriptions, errors and stderr tails come
 * from strangers: an OSC 52 sequence writes the clipboard, OSC 0 the window title, `ESC[2K\r` erases a line and
 * forges another over it. Every CLI line carrying such text goes through forTerminal.
 */
// C0 controls except tab and newline, DEL, C1 controls (0x9b is a one-byte CSI), zero-width and bidi controls, tags.
const CONTROL =
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u{E0000}-\u{E007F}]/gu;

/** Untrusted text with control characters (escape sequences, carriage returns) shown as \u{XX}. */
export function forTerminal(s: string): string {
  return s.replace(CONTROL, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}
