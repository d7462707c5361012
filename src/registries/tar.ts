import { gunzipSync } from "node:zlib";
import { AppError } from "../core/errors.js";

/**
 * Most bytes an archive may unpack to. The download is capped (64 MB), but gzip packs a gigabyte of zeros into a
 * megabyte: without this cap a hostile archive fills memory before a single header is read.
 */
export const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;

/** The regular files of a .tar.gz, by path (ustar, GNU long names and pax paths), filtered to keep memory small. */
export function readTarGz(
  data: Buffer,
  keep: (path: string) => boolean,
  label = "archive",
  maxUnpackedBytes = MAX_UNPACKED_BYTES,
): Map<string, Buffer> {
  let tar: Buffer;
  try {
    // zlib stops as soon as the output would pass the cap (ERR_BUFFER_TOO_LARGE), without producing the rest.
    tar = gunzipSync(data, { maxOutputLength: maxUnpackedBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new AppError("bad_input", `${label}: unpacks to more than ${maxUnpackedBytes} bytes (a gzip bomb?)`, {
        cause: err,
      });
    }
    throw new AppError("bad_input", `${label}: not a gzip archive: ${(err as Error).message}`, { cause: err });
  }
  const files = new Map<string, Buffer>();
  let off = 0;
  let longName: string | undefined;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, n: number) => h.toString("utf8", a, a + n).replace(/\0.*$/s, "");
    const size = Number.parseInt(str(124, 12).trim() || "0", 8);
    if (Number.isNaN(size)) throw new AppError("bad_input", `${label}: corrupt tar header at byte ${off}`);
    const type = String.fromCharCode(h[156] ?? 0);
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = body.toString("utf8").replace(/\0.*$/s, "");
      continue;
    }
    if (type === "x") {
      const m = /\d+ path=([^\n]*)\n/.exec(body.toString("utf8"));
      if (m) longName = m[1];
      continue;
    }
    if (type === "g") continue;
    const prefix = str(345, 155);
    const path = longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    longName = undefined;
    if ((type === "0" || type === "\0") && keep(path)) files.set(path, Buffer.from(body));
  }
  return files;
}
