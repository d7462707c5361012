import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../core/errors.js";
import { errorRaw, parseJsonText } from "./sanitise.js";
import { normaliseOfficialList } from "./server-json.js";
import type { SourceAdapter, SourcePage } from "./types.js";

/** The JSON files of a seed folder (or the one file given), in a stable order. */
function seedFiles(path: string): string[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    throw new AppError("not_found", `seed folder ${path} does not exist`);
  }
  if (st.isFile()) return [path];
  return readdirSync(path, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => join(path, f));
}

/**
 * Seed files in the official server.json format: an array of server.json objects, the API page shape
 * {servers:[{server,_meta}]}, or the 2025-05 snake_case format. One file per page; the cursor is the file index.
 * A file that is not JSON stops the crawl (bad_input naming file and line); a bad entry is an error item.
 */
export function seedAdapter(opts: { path: string }): SourceAdapter {
  let files: string[] | undefined;
  return {
    id: "seed",
    async fetchPage(cursor): Promise<SourcePage> {
      files ??= seedFiles(opts.path);
      const index = cursor === undefined ? 0 : Number(cursor);
      const file = files[index];
      if (file === undefined) return { entries: [], errors: [] };
      const nextCursor = index + 1 < files.length ? String(index + 1) : undefined;
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (err) {
        throw new AppError("io_error", `${file}: cannot read: ${(err as Error).message}`, { cause: err });
      }
      const doc = parseJsonText(text, file);
      let items: unknown[];
      if (Array.isArray(doc)) items = doc;
      else if (doc && typeof doc === "object" && Array.isArray((doc as { servers?: unknown }).servers)) {
        items = (doc as { servers: unknown[] }).servers;
      } else if (doc && typeof doc === "object" && "name" in doc) items = [doc];
      else {
        const error = `${file}: expected an array of server.json objects or {"servers": [...]}`;
        return { entries: [], errors: [{ error, raw: errorRaw(doc) }], nextCursor };
      }
      const r = normaliseOfficialList(items, file);
      return { entries: r.entries, errors: r.errors, olderVersions: r.olderVersions, nextCursor };
    },
  };
}
