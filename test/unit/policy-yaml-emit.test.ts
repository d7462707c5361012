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

  it("quotes keys YAML 1.1 or 1.2 would read as null or a boolean, so they stay string keys in both", () => {
    const words = ["null", "Null", "NULL", "~", "on", "On", "ON", "off", "yes", "Yes", "no", "NO", "y", "n"];
    const more = ["true", "True", "FALSE", "false", "nullable", "onion", "yesterday"];
    const doc = { tools: Object.fromEntries([...words, ...more].map((w) => [w, { rules: [] }])) };
    const text = toYaml(doc);
    for (const version of ["1.1", "1.2"] as const) {
      const back = parse(text, { version });
      expect(Object.keys(back.tools).sort(), version).toEqual([...words, ...more].sort());
      expect(back, version).toEqual(doc);
    }
    expect(text).toMatch(/^ {2}nullable:/m);
    expect(text).toMatch(/^ {2}"null":/m);
  });

  it("writes plain keys bare and quotes the rest", () => {
    expect(toYaml({ default: "deny", "*": {}, "a b": 1 })).toBe('default: "deny"\n"*": {}\n"a b": 1\n');
  });
});
