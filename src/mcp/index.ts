// The only module tree allowed to import @modelcontextprotocol/sdk; the rest of the project goes through here.
export {
  buildCommand,
  isPinnedPackage,
  PLACEHOLDER_SECRET,
  PROBE_REVISION,
  type ProbeTarget,
  parseTarget,
  targetsForEntry,
} from "./launch.js";
export { LISTING_LIMITS } from "./listing.js";
export { cacheDirFor, InstallError, installNpmPackage } from "./npm-install.js";
export { type ProbeOptions, probe } from "./probe.js";
export { sandboxAvailable } from "./sandbox.js";
export { isPrivateAddress } from "./ssrf.js";
