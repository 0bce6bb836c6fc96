import { describe, expect, it } from "vitest";
import { ACTION_LIMITS } from "../host/bindings/action-limits";
import { catalogs, format, t, useLocale } from "./index.svelte";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("message catalogues", () => {
  const zh = catalogs["zh-CN"];
  const en = catalogs.en;

  it("have the same keys in every language", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
  });

  it("name every disposition code the platform accepts (bindings/action-limits.ts)", () => {
    for (const code of ACTION_LIMITS.dispositions) {
      expect(Object.keys(en), code).toContain(`disposition.${code}`);
      expect(Object.keys(zh), code).toContain(`disposition.${code}`);
    }
  });

  it("have no empty texts", () => {
    for (const [locale, messages] of Object.entries(catalogs)) {
      for (const [key, text] of Object.entries(messages)) {
        expect(text.trim(), `${locale} ${key} is empty`).not.toBe("");
      }
    }
  });

  it("use the same placeholders in every language", () => {
    for (const key of Object.keys(zh) as (keyof typeof zh)[]) {
      expect(placeholders(en[key]), key).toEqual(placeholders(zh[key]));
    }
  });

  it("write the Chinese catalogue in Chinese", () => {
    const han = /\p{Script=Han}/u;
    for (const [key, text] of Object.entries(zh)) {
      expect(han.test(text), `zh-CN ${key} should be Chinese: ${text}`).toBe(true);
    }
  });
});

describe("t()", () => {
  it("fills placeholders and follows the current language", () => {
    useLocale("zh-CN");
    expect(t("connection.pending", { count: 3 })).toBe("待发送 3 条");
    useLocale("en");
    expect(t("connection.pending", { count: 3 })).toBe("3 waiting to send");
    useLocale("zh-CN");
  });

  it("leaves a placeholder visible when its value is missing rather than printing 'undefined'", () => {
    expect(format("版本 {version}", {})).toBe("版本 {version}");
  });
});
