// Practice mode as the window sees it: the sandbox's status (read again
// whenever the desk changes), how many customers the session has, whether it
// began from a signed-in agent (whose password can then lock the screen), and
// the score reports that wait their turn: after each finished contact its
// report (in an exam none until the end), then, once every customer of a
// shift or exam is done, the pack's result, once. A report or result the lock
// closed comes back after unlocking; contacts already over when a session is
// resumed at start are not reported again. The desk itself is the same one:
// the only thing practice adds to it are the marks (articles, script steps)
// the trainee's practice customer is told about.

import { tick } from "svelte";
import {
  toHostError,
  type Host,
  type HostErrorCode,
  type PracticeMark,
  type PracticeStatus,
  type SignedInAgent,
} from "../../host";
import type { DialogName, DialogStack } from "../dialogs.svelte";

export interface PracticeDeps {
  host: () => Host;
  /** Where the reports and the pack's result are shown. */
  dialogs: DialogStack;
  /** The desk is the practice sandbox (its agent is a trainee). */
  practising: () => boolean;
  /** The screen is locked: nothing is shown until it unlocks. */
  locked: () => boolean;
  onfailure: (code: HostErrorCode) => void;
}

export class PracticeMode {
  /** The sandbox's status; null until read. */
  status = $state<PracticeStatus | null>(null);
  /** Customers in the running session, as the picker knew it (a pack's arrive over time). */
  total = $state<number | null>(null);
  /** The practice began from a signed-in agent, whose password can lock the screen. */
  fromLive = $state(false);
  /** Leaving the sandbox is under way. */
  ending = $state(false);
  /** The contact whose score report is shown. */
  reportFor = $state<string | null>(null);

  /** Finished contacts whose reports wait for the dialog in front to close. */
  private pendingReports: string[] = [];
  /** Finished contacts already seen (their report read, and shown unless an exam). */
  private seenOver = new Set<string>();
  /** The pack's result was shown (once, when every customer is done). */
  private packResultShown = false;
  /** Resumed a session at start: contacts over by then are not reported again. */
  private resumed = false;

  private readonly deps: PracticeDeps;

  constructor(deps: PracticeDeps) {
    this.deps = deps;
  }

  /** The session's exam flag: an exam gives no hints and no report until the end. */
  get exam(): boolean {
    return this.status?.exam === true;
  }

  /** Whether `agent`'s screen may lock: live agents, and practice begun from one. */
  canLock(agent: SignedInAgent | null): boolean {
    return agent !== null && (!agent.practice || this.fromLive);
  }

  /** The app started with `agent` signed in: a practice session is resumed, not begun. */
  opened(agent: SignedInAgent | null) {
    this.resumed = agent?.practice === true;
  }

  /** A session began from the picker with `total` customers; `before` was at the desk. */
  started(total: number, before: SignedInAgent | null) {
    if (!before?.practice) this.fromLive = before !== null;
    this.reset();
    this.total = total;
  }

  /**
   * Leaves the sandbox; `leave` gets the agent the host returns to (null:
   * the sign-in screen) and sets the desk up for them. Once at a time. The
   * focus goes to the way back into practice.
   */
  async end(leave: (back: SignedInAgent | null) => Promise<void>) {
    if (this.ending) return;
    this.ending = true;
    try {
      const back = await this.deps.host().stopPractice();
      this.reset();
      this.fromLive = false;
      await leave(back);
      await tick();
      document
        .querySelector<HTMLElement>(
          '[data-testid="practice-open"], [data-testid="practice-without-sign-in"]',
        )
        ?.focus();
    } catch (reason) {
      this.deps.onfailure(toHostError(reason).code);
    } finally {
      this.ending = false;
    }
  }

  /** Reads the sandbox's status; a contact just over gets its report in turn. */
  async refresh() {
    const { host, practising, onfailure } = this.deps;
    try {
      const status = await host().practiceStatus();
      if (!practising()) return;
      this.status = status;
      for (const contact of status.contacts) {
        if (!contact.over || this.seenOver.has(contact.conversationId)) continue;
        this.seenOver.add(contact.conversationId);
        if (this.resumed) continue;
        // Read it now all the same: the host keeps a finished contact in the
        // history when its report is read (in an exam it answers null until the end).
        host()
          .practiceReport(contact.conversationId)
          .catch((reason) => onfailure(toHostError(reason).code));
        if (!status.exam) this.pendingReports = [...this.pendingReports, contact.conversationId];
      }
      this.resumed = false;
      this.showNext();
    } catch (reason) {
      onfailure(toHostError(reason).code);
    }
  }

  /** The next score report, else the pack's result once every customer is done. */
  showNext() {
    const { dialogs, locked, practising } = this.deps;
    if (dialogs.shown !== null || locked() || !practising() || !this.status) return;
    const [next, ...rest] = this.pendingReports;
    if (next !== undefined) {
      this.pendingReports = rest;
      this.reportFor = next;
      dialogs.open("report");
      return;
    }
    const status = this.status;
    const pack = status.exam || Math.max(this.total ?? 0, status.contacts.length) > 1;
    if (pack && status.passed !== null && !this.packResultShown) {
      this.packResultShown = true;
      dialogs.open("packResult");
    }
  }

  /** The pack's result asks for one contact's report; the result comes back after. */
  viewReport(conversationId: string) {
    this.reportFor = conversationId;
    this.deps.dialogs.open("report", true);
  }

  /** A dialog closed and `back` is in front now: with none, the next report's turn. */
  dialogClosed(back: DialogName | null) {
    if (back !== "report") this.reportFor = null;
    if (back === null) this.showNext();
  }

  /** The screen locks and closes every dialog: a report or result shown comes back after. */
  locking() {
    const { dialogs } = this.deps;
    if (dialogs.shown === "report" && this.reportFor !== null && dialogs.returnTo === null) {
      this.pendingReports = [this.reportFor, ...this.pendingReports];
    }
    if (dialogs.shown === "packResult" || dialogs.returnTo === "packResult") {
      this.packResultShown = false;
    }
  }

  /** Tells the practice customer what the trainee used in conversation `open`. */
  mark(open: string | null, mark: PracticeMark) {
    const { host, practising, onfailure } = this.deps;
    if (!practising() || open === null) return;
    host()
      .practiceMark(open, mark)
      .catch((reason) => onfailure(toHostError(reason).code));
  }

  private reset() {
    this.status = null;
    this.total = null;
    this.reportFor = null;
    this.pendingReports = [];
    this.seenOver = new Set();
    this.packResultShown = false;
    this.resumed = false;
  }
}
