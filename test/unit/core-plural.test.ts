import { describe, expect, it } from "vitest";
import { plural } from "../../src/core/text.js";

describe("plural (site pages and terminal progress lines)", () => {
  it("counts with the right noun form and thousands separators", () => {
    expect(plural(0, "tool")).toBe("0 tools");
    expect(plural(1, "tool")).toBe("1 tool");
    expect(plural(2, "tool")).toBe("2 tools");
    expect(plural(1234, "tool")).toBe("1,234 tools");
    expect(plural(1, "warning sign")).toBe("1 warning sign");
    expect(plural(3, "entry", "entries")).toBe("3 entries");
  });
});
