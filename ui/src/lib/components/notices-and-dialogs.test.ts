// The two small models the App composes: the notices kept on screen (a few
// at most, none when the agent turned notifications off) and the one dialog
// in front (with the one it came from, shown again when it closes).

import { describe, expect, it } from "vitest";
import type { Notice } from "../host";
import { DEFAULT_PREFERENCES } from "../host/mock";
import { DialogStack } from "./dialogs.svelte";
import { MAX_NOTICES, NoticeList } from "./notices.svelte";

const notice = (title: string): Notice => ({
  kind: "message",
  conversationId: "c1",
  title,
  body: "",
});

describe("notices", () => {
  it("keeps the newest few, each with an id of its own, and dismisses by id", () => {
    const notices = new NoticeList();
    for (let i = 1; i <= MAX_NOTICES + 2; i++) notices.received(notice(`n${i}`), null);
    const titles = notices.items.map((n) => n.notice.title);
    expect(titles, "the oldest go first").toEqual(["n3", "n4", "n5", "n6", "n7"]);
    expect(new Set(notices.items.map((n) => n.id)).size).toBe(MAX_NOTICES);

    notices.dismiss(notices.items[1]!.id);
    expect(notices.items.map((n) => n.notice.title)).toEqual(["n3", "n5", "n6", "n7"]);
    notices.clear();
    expect(notices.items).toEqual([]);
  });

  it("shows none when the agent turned notifications off", () => {
    const notices = new NoticeList();
    notices.received(notice("n1"), { ...DEFAULT_PREFERENCES, notifications: false });
    expect(notices.items).toEqual([]);
    notices.received(notice("n2"), { ...DEFAULT_PREFERENCES, notifications: true, sound: false });
    expect(notices.items.map((n) => n.notice.title)).toEqual(["n2"]);
  });
});

describe("dialogs", () => {
  it("shows one at a time and comes back to the one it was opened from", () => {
    const dialogs = new DialogStack();
    dialogs.open("practice");
    dialogs.open("practiceHistory", true);
    expect(dialogs.shown).toBe("practiceHistory");
    expect(dialogs.close(), "the picker comes back").toBe("practice");
    expect(dialogs.shown).toBe("practice");
    expect(dialogs.close()).toBeNull();
    expect(dialogs.shown).toBeNull();

    dialogs.open("settings");
    dialogs.open("help");
    expect(dialogs.close(), "opened without coming back: nothing returns").toBeNull();

    dialogs.open("packResult");
    dialogs.open("report", true);
    dialogs.closeAll();
    expect([dialogs.shown, dialogs.returnTo]).toEqual([null, null]);
  });
});
