// Every refusal code the platform can send is explained in both languages,
// and the platform's English never reaches the Chinese interface.

import { afterEach, describe, expect, it } from "vitest";
// The file as Rust generated it (crates/core/tests/ipc_bindings.rs keeps it current).
import actionCodeSource from "./host/bindings/ActionCode.ts?raw";
import type { ActionCode } from "./host/bindings/ActionCode";
import { catalogs, useLocale } from "./i18n/index.svelte";
import { EXPLAINED_CODES, refusalText } from "./refusal";

/** The codes as Rust generated them (bindings/ActionCode.ts), not as this file lists them. */
function generatedCodes(): string[] {
  const union = actionCodeSource.slice(actionCodeSource.indexOf("export type ActionCode"));
  return [...union.matchAll(/"(\w+)"/g)].map((m) => m[1]!);
}

const ENGLISH_FROM_PLATFORM = "conversation c1 is not assigned to you: it is now assigned to a1002";

afterEach(() => useLocale("zh-CN"));

describe("refusal messages", () => {
  it("say a refused photo is back in the reply box when the field at fault is the photos", () => {
    const photo = refusalText({
      code: "invalid",
      params: { field: "attachments" },
      holderName: null,
    });
    expect(photo).toContain("图片");
    expect(photo).toContain("放回输入框");
    expect(photo).not.toBe(refusalText({ code: "invalid", params: {}, holderName: null }));
  });

  it("read the closed set of codes from the generated bindings", () => {
    const codes = generatedCodes();
    expect(codes.length, "ActionCode.ts lists the codes").toBeGreaterThanOrEqual(11);
    expect(codes).toContain("invalid_duration");
  });

  for (const locale of ["zh-CN", "en"] as const) {
    it(`explain every code the platform can send, in ${locale}, each in its own words`, () => {
      useLocale(locale);
      const generic = refusalText({ code: null, params: {}, holderName: null });
      const seen = new Set<string>();
      for (const code of generatedCodes()) {
        const text = refusalText({
          code: code as ActionCode,
          params: { holder: "a1002", limit: 10_000 },
          holderName: "李春梅",
        });
        expect(EXPLAINED_CODES, `${code} has no message: add it to refusal.ts`).toContain(code);
        expect(text, `${code} falls back to the general message`).not.toBe(generic);
        expect(text, `${code} leaves a placeholder unfilled`).not.toMatch(/\{\w+\}/);
        if (locale === "zh-CN") {
          expect(text, `${code} is not Chinese`).toMatch(/\p{Script=Han}/u);
          expect(text, `${code} shows English in the Chinese interface`).not.toMatch(
            /[A-Za-z]{3,}/,
          );
        }
        seen.add(text);
      }
      expect(seen.size, "no two codes share one message").toBe(generatedCodes().length);
    });

    it(`name the colleague and the limit, in ${locale}`, () => {
      useLocale(locale);
      expect(
        refusalText({ code: "not_assigned", params: { holder: "a1002" }, holderName: "李春梅" }),
      ).toContain("李春梅");
      expect(
        refusalText({ code: "already_claimed", params: { holder: "a1002" }, holderName: null }),
        "without a known name, the agent code",
      ).toContain("a1002");
      expect(
        refusalText({ code: "not_assigned", params: {}, holderName: null }),
        "back in the queue, nobody named",
      ).toBe(catalogs[locale]["refusal.not_assigned.queue"]);
      expect(
        refusalText({ code: "too_long", params: { limit: 10_000 }, holderName: null }),
      ).toContain("10000");
      expect(
        refusalText({ code: "invalid_duration", params: { limit: 14_400 }, holderName: null }),
      ).toMatch(/\b4\b/);
    });

    it(`say something general for a code this build does not know, in ${locale}`, () => {
      useLocale(locale);
      const text = refusalText({
        code: "made_up_by_a_newer_platform" as ActionCode,
        params: {},
        holderName: null,
      });
      expect(text).toBe(catalogs[locale]["refusal.unknown"]);
      expect(text).not.toContain(ENGLISH_FROM_PLATFORM);
    });
  }
});

describe("a refused note", () => {
  it("says a colleague it mentions cannot see the conversation", () => {
    useLocale("zh-CN");
    const note = refusalText({
      code: "forbidden",
      params: { queue: "complaints" },
      holderName: null,
      action: "internal_note",
    });
    expect(note).toContain("看不到这个会话");
    expect(note).not.toBe(refusalText({ code: "forbidden", params: {}, holderName: null }));
  });
});
