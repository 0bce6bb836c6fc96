// Which screen a supervisor or trainer has in front. Both land on the team
// console at sign-in (a trainer only ever has the trainees). A supervisor
// who switches on "我也接待客户" is set `available` (the platform then
// offers them contacts) and sees the ordinary desk; the top bar's button
// brings the console back without touching the presence, and switching
// "take contacts" off sets them `offline`. Agents and trainees (and
// anyone in practice) never see the console.

import {
  toHostError,
  type Host,
  type HostErrorCode,
  type Presence,
  type SignedInAgent,
} from "../../host";

/** Whether `agent` opens on the console (supervisors and trainers, never in practice). */
export function hasConsole(agent: SignedInAgent | null): boolean {
  if (!agent || agent.practice) return false;
  return agent.role === "supervisor" || agent.role === "trainer";
}

/** Whether `agent` may take contacts from the console (a supervisor). */
export function takesContacts(agent: SignedInAgent | null): boolean {
  return hasConsole(agent) && agent?.role === "supervisor";
}

/** "Take contacts" is on: the presence is anything but offline. */
export function taking(presence: Presence | null): boolean {
  return presence !== null && presence !== "offline";
}

export interface ConsoleModeDeps {
  host: () => Host;
  /** The presence was set here (the App shows it, and drops the platform's reason). */
  presenceSet: (presence: Presence) => void;
  onfailure: (code: HostErrorCode) => void;
}

export class ConsoleMode {
  /** A supervisor chose the ordinary desk (queue, conversations) over the console. */
  desk = $state(false);
  /** The presence is being set by the switch. */
  busy = $state(false);

  private readonly deps: ConsoleModeDeps;

  constructor(deps: ConsoleModeDeps) {
    this.deps = deps;
  }

  /** Whether the console is in front for `agent`. */
  shown(agent: SignedInAgent | null): boolean {
    return hasConsole(agent) && !(this.desk && takesContacts(agent));
  }

  /**
   * The switch: on sets the supervisor available and shows the desk, off
   * sets them offline (the console stays). False when the host refused.
   */
  async takeContacts(on: boolean): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    const next: Presence = on ? "available" : "offline";
    try {
      await this.deps.host().setPresence(next);
      this.deps.presenceSet(next);
      this.desk = on;
      return true;
    } catch (reason) {
      this.deps.onfailure(toHostError(reason).code);
      return false;
    } finally {
      this.busy = false;
    }
  }

  /** Back to the console; the presence stays as it is. */
  toConsole() {
    this.desk = false;
  }

  /** The desk in front (an offer taken, a customer's conversation opened). */
  toDesk() {
    this.desk = true;
  }

  /** Someone else is at the desk now: they start on their own landing screen. */
  reset() {
    this.desk = false;
  }
}
