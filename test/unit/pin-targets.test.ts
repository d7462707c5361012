import { describe, expect, it } from "vitest";
import { targetsForLock } from "../../src/cli/pin.js";

describe("verify's launch of a locally pinned server", () => {
  it("starts the command in a scratch folder, not the user's working folder", () => {
    const targets = targetsForLock(
      "local:node ./server.js --flag",
      { entry: { name: "local:node ./server.js --flag", packages: [], remotes: [] }, tools: {} },
      false,
    );
    expect(targets).toEqual([{ kind: "command", command: "node", args: ["./server.js", "--flag"] }]);
    expect(targets[0]).not.toHaveProperty("cwd");
  });
});
