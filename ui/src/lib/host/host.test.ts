import { describe, expect, it } from "vitest";
import { HostError, toHostError } from "./index";
import { createMockHost } from "./mock";

describe("toHostError", () => {
  it("keeps the core's code and message", () => {
    const err = toHostError({ code: "storage", message: "disk full" });
    expect(err).toBeInstanceOf(HostError);
    expect(err.code).toBe("storage");
    expect(err.message).toBe("disk full");
  });

  it("maps anything that is not the core's shape to 'ipc'", () => {
    for (const reason of [
      "Command app_info not allowed by ACL",
      new Error("boom"),
      { code: "made_up", message: "x" },
      { code: "storage" },
      null,
    ]) {
      expect(toHostError(reason).code, JSON.stringify(reason)).toBe("ipc");
    }
  });
});

describe("mock host", () => {
  it("behaves like the core: Chinese and offline by default, refuses unknown languages", async () => {
    const host = createMockHost();
    expect((await host.appInfo()).locale).toBe("zh-CN");
    expect((await host.connectionStatus()).state).toBe("offline");
    // @ts-expect-error -- a language we do not ship
    await expect(host.setLocale("fr")).rejects.toMatchObject({ code: "invalid_input" });
    expect((await host.appInfo()).locale).toBe("zh-CN");
  });
});

describe("renderReply", () => {
  it("fills every placeholder and refuses while a required one is empty", async () => {
    const { renderReply } = await import("./index");
    const fields = [
      { name: "order_no", kind: "order_no" as const, required: true, value: " 123 " },
      { name: "note", kind: "text" as const, required: false, value: "" },
    ];
    expect(renderReply("单号{order_no}{note}，{order_no}", fields)).toBe("单号123，123");
    expect(renderReply("单号{order_no}", [{ ...fields[0]!, value: "  " }])).toBeNull();
  });
});
