import { describe, expect, it } from "vitest";
import { HostError, toHostError } from "./index";
import { createMockHost, recording } from "./mock";

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
  it("replays a recording of the engine and refuses an action the recording did not make", async () => {
    const rec = recording("where-parcel");
    const host = createMockHost({ recordings: [rec] });
    await expect(host.startPractice({ scenario: "sc-zh-coupon-expired" })).rejects.toMatchObject({
      code: "invalid_input",
    });
    expect(await host.startPractice(rec.choice)).toEqual(rec.trainee);
    expect(await host.queue("all")).toEqual(rec.frames[0]!.queue);
    const id = "conv-sc-zh-where-parcel";
    await host.claim(id);
    await expect(host.reply(id, "a reply the engine never saw", [])).rejects.toThrow(
      /off the recording "where-parcel"/,
    );
    expect(await host.practiceStatus()).toEqual(rec.frames[1]!.status);
    expect(await host.stopPractice()).toBeNull();
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
