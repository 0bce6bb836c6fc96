// The practice model on its own: which report or result comes next, and
// when. The screens around it (picker, band, report, result) are tested
// through the App in Practice.test.ts; here the order and the edge cases
// are pinned without a window: reports one at a time, none in an exam, the
// pack's result once, nothing again after a resume, a report the lock
// closed comes back, marks only in practice.

import { describe, expect, it } from "vitest";
import { createMockHost, MOCK_AGENT, type MockHost } from "../../host/mock";
import type { PracticeContact, PracticeStatus, SignedInAgent } from "../../host";
import { DialogStack } from "../dialogs.svelte";
import { PracticeMode } from "./practice.svelte";

const TRAINEE: SignedInAgent = { ...MOCK_AGENT, code: "trainee", practice: true };

function contact(id: string, over: boolean): PracticeContact {
  return { conversationId: id, scenarioId: id, title: id, over, percent: 80, passed: true };
}

function status(contacts: PracticeContact[], fields: Partial<PracticeStatus> = {}): PracticeStatus {
  const done = contacts.every((c) => c.over);
  return {
    active: true,
    title: "售后",
    exam: false,
    passMark: 60,
    contacts,
    percent: 80,
    passed: done ? true : null,
    ...fields,
  };
}

/** A practice model over a mock host; `now` is what `practiceStatus` answers next. */
function setUp(options: { practising?: boolean; locked?: boolean } = {}) {
  const state = { practising: options.practising ?? true, locked: options.locked ?? false };
  let now = status([]);
  const failures: string[] = [];
  const host: MockHost = createMockHost({
    answers: {
      practiceStatus: async () => structuredClone(now),
      practiceReport: async () => null,
    },
  });
  const dialogs = new DialogStack();
  const practice = new PracticeMode({
    host: () => host,
    dialogs,
    practising: () => state.practising,
    locked: () => state.locked,
    onfailure: (code) => failures.push(code),
  });
  const answer = (next: PracticeStatus) => (now = next);
  /** Closes the dialog in front as the App does. */
  const close = () => practice.dialogClosed(dialogs.close());
  return { host, dialogs, practice, state, failures, answer, close };
}

describe("practice reports", () => {
  it("shows each finished contact's report in turn, then the shift's result once", async () => {
    const { host, dialogs, practice, answer, close } = setUp();
    practice.started(2, null);
    answer(status([contact("c1", true), contact("c2", true)]));
    await practice.refresh();

    expect(dialogs.shown, "the first report shows at once").toBe("report");
    expect(practice.reportFor).toBe("c1");
    expect(host.calls).toContain("practiceReport:c1");
    expect(host.calls, "every finished contact's report is read").toContain("practiceReport:c2");

    close();
    expect(dialogs.shown, "the second waits for the first to close").toBe("report");
    expect(practice.reportFor).toBe("c2");

    close();
    expect(dialogs.shown, "every customer done: the shift's result").toBe("packResult");
    close();
    await practice.refresh();
    expect(dialogs.shown, "the result shows once, and no report twice").toBeNull();
    expect(host.calls.filter((c) => c === "practiceReport:c1")).toHaveLength(1);
  });

  it("in an exam keeps every report until the end, then shows only the result", async () => {
    const { dialogs, practice, answer } = setUp();
    practice.started(2, null);
    answer(status([contact("c1", true), contact("c2", false)], { exam: true }));
    await practice.refresh();
    expect(dialogs.shown, "no report in the middle of an exam").toBeNull();
    expect(practice.exam).toBe(true);

    answer(status([contact("c1", true), contact("c2", true)], { exam: true }));
    await practice.refresh();
    expect(dialogs.shown).toBe("packResult");
    expect(practice.reportFor).toBeNull();
  });

  it("shows no pack result for a single scenario", async () => {
    const { dialogs, practice, answer, close } = setUp();
    practice.started(1, null);
    answer(status([contact("c1", true)]));
    await practice.refresh();
    expect(dialogs.shown).toBe("report");
    close();
    expect(dialogs.shown, "one customer: the report is the result").toBeNull();
  });

  it("does not report again what was over before a resumed session, but reports what ends after", async () => {
    const { dialogs, practice, answer, close } = setUp();
    practice.opened(TRAINEE);
    answer(status([contact("c1", true), contact("c2", false)]));
    await practice.refresh();
    expect(dialogs.shown, "c1 was reported before the restart").toBeNull();

    answer(status([contact("c1", true), contact("c2", true)]));
    await practice.refresh();
    expect(practice.reportFor).toBe("c2");
    close();
    expect(dialogs.shown).toBe("packResult");
  });

  it("waits while another dialog is in front, while locked, and when the desk left practice", async () => {
    const { dialogs, practice, state, answer } = setUp();
    practice.started(1, null);
    answer(status([contact("c1", true)]));
    dialogs.open("settings");
    await practice.refresh();
    expect(dialogs.shown, "the settings stay in front").toBe("settings");

    dialogs.close();
    state.locked = true;
    practice.dialogClosed(null);
    expect(dialogs.shown, "nothing shows behind the lock").toBeNull();

    state.locked = false;
    state.practising = false;
    practice.showNext();
    expect(dialogs.shown, "nothing of practice on the live desk").toBeNull();

    state.practising = true;
    practice.showNext();
    expect(practice.reportFor).toBe("c1");
  });

  it("brings back the report and the result the lock closed", async () => {
    const { dialogs, practice, answer, close } = setUp();
    practice.started(2, null);
    answer(status([contact("c1", true), contact("c2", true)]));
    await practice.refresh();
    expect(practice.reportFor).toBe("c1");

    practice.locking();
    dialogs.closeAll();
    practice.dialogClosed(null);
    expect(dialogs.shown).toBe("report");
    expect(practice.reportFor, "the report shown when the screen locked comes back first").toBe(
      "c1",
    );

    close();
    expect(practice.reportFor).toBe("c2");
    close();
    expect(dialogs.shown).toBe("packResult");

    // The result opened a report and the lock came: the result comes back.
    practice.viewReport("c1");
    practice.locking();
    dialogs.closeAll();
    practice.dialogClosed(null);
    expect(dialogs.shown).toBe("packResult");
  });

  it("opens one report from the result and goes back to the result after", async () => {
    const { dialogs, practice, answer, close } = setUp();
    practice.started(1, null);
    answer(status([contact("c1", true)], { exam: true }));
    await practice.refresh();
    expect(dialogs.shown).toBe("packResult");

    practice.viewReport("c1");
    expect(dialogs.shown).toBe("report");
    close();
    expect(dialogs.shown).toBe("packResult");
    expect(practice.reportFor, "no report behind the result").toBeNull();
  });
});

describe("practice mode", () => {
  it("lets a practice begun from a signed-in agent lock, but not one begun without signing in", () => {
    const { practice } = setUp();
    expect(practice.canLock(MOCK_AGENT)).toBe(true);
    expect(practice.canLock(null)).toBe(false);
    practice.started(1, null);
    expect(practice.canLock(TRAINEE), "no password to unlock with").toBe(false);
    practice.started(1, MOCK_AGENT);
    expect(practice.canLock(TRAINEE)).toBe(true);
    practice.started(1, TRAINEE);
    expect(practice.canLock(TRAINEE), "a second scenario keeps where the first began").toBe(true);
  });

  it("marks only in practice and with a conversation open", () => {
    const { host, practice, state } = setUp();
    practice.mark(null, { article: "kb-1" });
    state.practising = false;
    practice.mark("c1", { article: "kb-1" });
    expect(host.calls.filter((c) => c.startsWith("practiceMark"))).toEqual([]);
    state.practising = true;
    practice.mark("c1", { article: "kb-1" });
    expect(host.calls).toContain('practiceMark:c1:{"article":"kb-1"}');
  });

  it("ends once at a time and forgets the session; a failure is reported and nothing is left", async () => {
    const { host, practice, answer, failures } = setUp();
    practice.started(3, MOCK_AGENT);
    answer(status([contact("c1", false)]));
    await practice.refresh();
    let backTo: SignedInAgent | null | undefined;
    const first = practice.end(async (back) => void (backTo = back));
    expect(practice.ending).toBe(true);
    await practice.end(async () => {});
    await first;
    expect(
      host.calls.filter((c) => c === "stopPractice"),
      "one stop",
    ).toHaveLength(1);
    expect(backTo).toBeNull();
    expect([practice.status, practice.total, practice.ending]).toEqual([null, null, false]);
    expect(practice.canLock(TRAINEE), "the next practice starts afresh").toBe(false);

    host.answers.stopPractice = async () => {
      throw new Error("boom");
    };
    await practice.end(async () => {
      throw new Error("never called");
    });
    expect(failures).toHaveLength(1);
    expect(practice.ending).toBe(false);
  });
});
