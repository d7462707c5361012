/** A TOML basic string: quotes, backslashes and every non-printable or non-ASCII character escaped. */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    // Lone surrogates are not Unicode scalar values, which TOML requires.
    else if (cp >= 0xd800 && cp <= 0xdfff) out += "\\uFFFD";
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).toUpperCase().padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).toUpperCase().padStart(8, "0")}`;
  }
  return `${out}"`;
}

/** A TOML key: bare when it can be, quoted otherwise. */
export function tomlKey(s: string): string {
  return /^[A-Za-z0-9_-]+$/.test(s) ? s : tomlString(s);
}
