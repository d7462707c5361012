import { AppError } from "../core/errors.js";
import { awesomeAdapter } from "./awesome.js";
import { dockerAdapter } from "./docker.js";
import { glamaAdapter } from "./glama.js";
import { npmAdapter } from "./npm.js";
import { officialAdapter } from "./official.js";
import { pulsemcpAdapter } from "./pulsemcp.js";
import { seedAdapter } from "./seed.js";
import { smitheryAdapter } from "./smithery.js";
import type { SourceAdapter } from "./types.js";

export * from "../store/keys.js";
export * from "./awesome.js";
export * from "./conditional.js";
export * from "./crawl.js";
export * from "./docker.js";
export * from "./glama.js";
export * from "./http.js";
export * from "./npm.js";
export * from "./official.js";
export * from "./pulsemcp.js";
export * from "./sanitise.js";
export * from "./seed.js";
export * from "./server-json.js";
export * from "./smithery.js";
export * from "./tar.js";
export * from "./types.js";

/** Every source id createAdapter knows, in the order a crawl of all sources runs them (official first: it names). */
export const SOURCE_IDS = ["seed", "official", "docker", "smithery", "glama", "pulsemcp", "npm", "awesome"] as const;
export type SourceId = (typeof SOURCE_IDS)[number];

export interface AdapterOptions {
  /** The source's API base (or, for docker and awesome, the archive/README URL). */
  baseUrl?: string;
  /** Bearer key (smithery). */
  apiKey?: string;
  /** A local folder or file (seed folder; docker checkout or .tar.gz; awesome README). */
  path?: string;
}

/** Builds the adapter for a source id; unknown ids and missing required options are config errors. */
export function createAdapter(id: string, opts: AdapterOptions = {}): SourceAdapter {
  switch (id) {
    case "official":
      return officialAdapter({ baseUrl: opts.baseUrl });
    case "seed":
      if (!opts.path) throw new AppError("config_invalid", "the seed source needs a folder (path)");
      return seedAdapter({ path: opts.path });
    case "docker":
      return dockerAdapter({ path: opts.path, baseUrl: opts.baseUrl });
    case "smithery":
      return smitheryAdapter({ baseUrl: opts.baseUrl, apiKey: opts.apiKey });
    case "glama":
      return glamaAdapter({ baseUrl: opts.baseUrl });
    case "pulsemcp":
      return pulsemcpAdapter({ baseUrl: opts.baseUrl });
    case "npm":
      return npmAdapter({ baseUrl: opts.baseUrl });
    case "awesome":
      return awesomeAdapter({ baseUrl: opts.baseUrl, path: opts.path });
    default:
      throw new AppError("bad_input", `unknown source ${JSON.stringify(id)} (known: ${SOURCE_IDS.join(", ")})`);
  }
}
