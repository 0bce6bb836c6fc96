// The offer list on its own: an offer made again replaces the first, a
// withdrawn one goes, expiry runs on the platform's clock, answering takes
// the offer off the screen even when the host fails, and the lock declines
// every offer shown. The prompt itself (focus, countdown) is tested through
// the App in Keyboard.test.ts and AppLevel.test.ts.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushSync } from "svelte";
import { createMockHost, fails } from "../../host/mock";
import { EXPIRY_CHECK_MS, OfferList, type OfferView } from "./offers.svelte";

const NOW = Date.UTC(2026, 5, 1, 9, 0, 0);

function offer(id: string, fields: Partial<OfferView> = {}): OfferView {
  return {
    offerId: id,
    conversationId: `c-${id}`,
    channel: "chat",
    subject: "退款",
    expiresAt: NOW + 20_000,
    ...fields,
  };
}

/** An offer list as the App makes it, inside an effect root so its expiry timer runs. */
function setUp(clockOffsetMs = 0) {
  const host = createMockHost();
  const opened: string[] = [];
  const failures: string[] = [];
  let offers!: OfferList;
  const stop = $effect.root(() => {
    offers = new OfferList({
      host: () => host,
      clockOffsetMs: () => clockOffsetMs,
      onaccepted: (id) => opened.push(id),
      onfailure: (code) => failures.push(code),
    });
  });
  return { host, offers, opened, failures, stop };
}

let stopRoot: () => void = () => {};

beforeEach(() => {
  vi.useFakeTimers({ now: NOW });
});

afterEach(() => {
  stopRoot();
  vi.useRealTimers();
});

describe("offers", () => {
  it("keeps offers oldest first; an offer made again replaces the first, a withdrawn one goes", () => {
    const { offers, stop } = setUp();
    stopRoot = stop;
    offers.received(offer("o1"));
    offers.received(offer("o2"));
    offers.received(offer("o1", { subject: "换货" }));
    expect(offers.items.map((o) => [o.offerId, o.subject])).toEqual([
      ["o2", "退款"],
      ["o1", "换货"],
    ]);
    expect(offers.first?.offerId).toBe("o2");
    expect(offers.has("c-o1")).toBe(true);

    offers.withdrawn("o2");
    expect(offers.items.map((o) => o.offerId)).toEqual(["o1"]);
    expect(offers.has("c-o2")).toBe(false);
  });

  it.each([
    ["60 s fast", -60_000],
    ["60 s slow", 60_000],
  ])(
    "drops an offer when its time runs out on the platform's clock, with a PC clock %s",
    (_, offset) => {
      // The platform's clock is this PC's plus the offset: the offer runs out
      // 20 s after NOW on the platform, whatever this PC's clock says.
      const { offers, stop } = setUp(offset);
      stopRoot = stop;
      offers.received(offer("o1", { expiresAt: NOW + offset + 20_000 }));
      flushSync();

      vi.advanceTimersByTime(19_000);
      expect(offers.items, "still time left on the platform's clock").toHaveLength(1);
      vi.advanceTimersByTime(EXPIRY_CHECK_MS);
      expect(offers.items, "gone once the platform's time is up").toHaveLength(0);
    },
  );

  it("stops checking when no offer is left", () => {
    const { offers, stop } = setUp();
    stopRoot = stop;
    offers.received(offer("o1"));
    flushSync();
    expect(vi.getTimerCount()).toBe(1);
    offers.withdrawn("o1");
    flushSync();
    expect(vi.getTimerCount(), "no timer runs for an empty list").toBe(0);
  });

  it("accepts: the offer leaves the screen and the conversation opens", async () => {
    const { host, offers, opened, stop } = setUp();
    stopRoot = stop;
    offers.received(offer("o1"));
    await offers.answer(offer("o1"), true);
    expect(offers.items).toEqual([]);
    expect(host.calls).toContain("acceptOffer:o1");
    expect(opened).toEqual(["c-o1"]);
  });

  it("declines, and when the host refuses, says why and opens nothing", async () => {
    const { host, offers, opened, failures, stop } = setUp();
    stopRoot = stop;
    offers.received(offer("o1"));
    offers.received(offer("o2"));
    await offers.answer(offer("o1"), false);
    expect(host.calls).toContain("declineOffer:o1");

    host.answers.acceptOffer = fails("platform", "taken by a colleague");
    await offers.answer(offer("o2"), true);
    expect(failures).toEqual(["platform"]);
    expect(opened, "a refused accept opens nothing").toEqual([]);
    expect(offers.items, "the refused offer does not come back").toEqual([]);
  });

  it("declines every offer shown when nobody is at the desk, even if one decline fails", async () => {
    const { host, offers, stop } = setUp();
    stopRoot = stop;
    offers.received(offer("o1"));
    offers.received(offer("o2"));
    host.answers.declineOffer = async (id) => {
      if (id === "o1") throw new Error("link down");
    };
    await offers.declineAll();
    expect(offers.items).toEqual([]);
    expect(host.calls.filter((c) => c.startsWith("declineOffer"))).toEqual([
      "declineOffer:o1",
      "declineOffer:o2",
    ]);
  });
});
