import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { toYaml } from "../../src/policy/formats/yaml-emit.js";

describe("policy YAML emitter", () => {
  it("round-trips through a real YAML parser, hostile strings included", () => {
    const doc = {
      version: "1",
      hide: [
        "a",
        "b\n: x",
        "- [not a list]",
        "#comment?",
        "&anchor *alias",
        "null",
        "true",
        "0x10",
        "é\u200b\u{e0041}",
      ],
      tools: {
        "*": { rules: [{ name: "r", rate_limit: "10/minute" }] },
        "evil\"' key: {x}": { rules: [] },
        ok: {
          rules: [
            { name: "x", action: "deny", on_deny: "no: #really\n---\n..." },
            { name: "y", nested: { deep: [1, 2.5, true, null] } },
          ],
        },
      },
      lists: [[1, 2], { a: [] }, []],
      empty: {},
    };
    const text = toYaml(doc);
    expect(parse(text)).toEqual(doc);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("writes plain keys bare and quotes the rest", () => {
    expect(toYaml({ default: "deny", "*": {}, "a b": 1 })).toBe('default: "deny"\n"*": {}\n"a b": 1\n');
  });
});
