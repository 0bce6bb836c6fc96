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

describe("console mock", () => {
  it("answers with the demo team, then with the kept copy once the platform is out of reach", async () => {
    const { consoleAnswers } = await import("./mock-console");
    const host = createMockHost();
    const world = consoleAnswers(host);
    const live = await host.consoleTeam();
    expect(live.live).toBe(true);
    expect(live.view?.agents.map((a) => a.code)).toContain("a1002");

    world.online = false;
    const kept = await host.consoleTeam();
    expect(kept).toMatchObject({ live: false, fetchedAt: live.fetchedAt });
    expect(kept.problem).not.toBeNull();
    expect(kept.view).toEqual(live.view);
    await expect(host.consoleReports("2026-12-01", "2026-12-07")).rejects.toMatchObject({
      code: "unreachable",
    });
  });

  it("has nothing to show by default: never fetched, out of reach", async () => {
    const host = createMockHost();
    expect(await host.consoleTeam()).toMatchObject({ view: null, live: false });
    expect(await host.consoleTrainees()).toMatchObject({ view: null, live: false });
    await expect(host.consolePromote("t2001", ["presales"])).rejects.toMatchObject({
      code: "unreachable",
    });
  });
});
