// Who is at the desk, and every way in or out of it: the start (a kept
// session: locked until the password opens the agent's encrypted store),
// signing in and out, 换人 (another agent on a shared PC: the desk closes,
// and an agent known on this PC opens their own with their password),
// entering or leaving practice, locking and unlocking the screen (by hand,
// or by itself after the agent's chosen minutes without keyboard or mouse). Also what comes
// with it: the app's information, the connection to the platform, and the
// data version that makes every part re-read. While the screen is locked
// the desk stays hidden and asks for nothing (the version stands still;
// unlocking catches up), and the focus goes back where it was when it
// unlocks. What the other parts drop when the desk changes, the App says
// (`leave`, `closeDesk`). Construct it while a component starts: it watches
// for idleness in an effect of that component.

import { tick } from "svelte";
import {
  toHostError,
  type AppInfo,
  type ConnectionStatus,
  type Host,
  type HostErrorCode,
  type KnownAgent,
  type SignedInAgent,
  type UnlockAnswer,
} from "./host";
import { useLocale } from "./i18n/index.svelte";
import { focusDesk, focusLost } from "./focus";
import { watchIdle } from "./idle";

export interface SessionDeps {
  host: () => Host;
  onfailure: (code: HostErrorCode) => void;
  /** This agent's screen may lock (practice without signing in has no password). */
  canLock: () => boolean;
  /** Lock by itself after this many minutes without keyboard or mouse; 0: never. */
  lockAfterMinutes: () => number;
  /** Takes away what needs someone at the desk, before the core closes it for the lock. */
  closeDesk: () => Promise<void>;
}

export class DeskSession {
  info = $state<AppInfo | null>(null);
  connection = $state<ConnectionStatus | null>(null);
  /** The agent at the desk; null: the sign-in screen (or locked since start). */
  agent = $state<SignedInAgent | null>(null);
  /**
   * The agent whose screen is locked; null when unlocked. While set, the
   * shell is hidden and inert, and nothing new asks the host for customer
   * data (the core refuses it anyway).
   */
  locked = $state<SignedInAgent | null>(null);
  /** The lock on screen is of an agent chosen after 换人 (`unlockAs`), not the one signed in. */
  picked = $state(false);
  /** The saved session was read: the sign-in form may show. */
  checked = $state(false);
  /** Goes up whenever local data changed: what is shown re-reads. */
  version = $state(0);

  private focusBeforeLock: HTMLElement | null = null;
  private readonly deps: SessionDeps;
  private readonly host: () => Host;

  constructor(deps: SessionDeps) {
    this.deps = deps;
    this.host = deps.host;
    $effect(() => {
      const minutes = deps.lockAfterMinutes();
      if (!this.agent || this.locked || !deps.canLock() || minutes <= 0) return;
      return watchIdle(window, minutes * 60_000, () => void this.lock());
    });
  }

  /** The desk is in practice. */
  get practising(): boolean {
    return this.agent?.practice === true;
  }

  /** Platform clock minus this PC's clock. */
  get clockOffsetMs(): number {
    return this.connection?.clockOffsetMs ?? 0;
  }

  /**
   * Reads the app, the connection and the saved session; `then` gets the
   * agent found (to listen to the desk) before the sign-in form may show.
   */
  async start(then: (found: SignedInAgent | null) => Promise<void>) {
    const host = this.host();
    try {
      const [info, connection, found] = await Promise.all([
        host.appInfo(),
        host.connectionStatus(),
        host.signedIn(),
      ]);
      this.info = info;
      this.connection = connection;
      // Locked at start: the desk stays unbuilt (it would ask for customer data) until unlocked.
      if (found?.locked) this.locked = found;
      else this.agent = found;
      useLocale(info.locale);
      await then(found);
    } catch (reason) {
      this.fail(reason);
    } finally {
      this.checked = this.locked === null;
    }
  }

  /** Local data changed: re-read, unless locked (unlocking catches up). */
  changed() {
    if (!this.locked) this.version += 1;
  }

  async signedIn(who: SignedInAgent) {
    this.agent = who;
    // The sign-in form is gone: the keyboard starts in the queue.
    await tick();
    if (focusLost()) focusDesk();
    await this.readConnection();
  }

  /** Signs out; `leave` clears what belonged to the desk. */
  async signOut(leave: () => void) {
    try {
      await this.host().signOut();
      this.agent = null;
      this.locked = null;
      leave();
      // The desk is gone: the keyboard starts again in the sign-in form.
      await tick();
      if (focusLost())
        document.querySelector<HTMLElement>('[data-testid="sign-in-agent"]')?.focus();
      this.connection = await this.host().connectionStatus();
    } catch (reason) {
      this.fail(reason);
    }
  }

  /** Practice began or ended: the desk of `who` (locked: it waits for the password). */
  async switchTo(who: SignedInAgent | null) {
    if (who?.locked) {
      this.agent = null;
      this.locked = who;
    } else {
      this.agent = who;
    }
    this.checked = true;
    this.version += 1;
    await this.readConnection();
  }

  /** Locks the screen, when this agent's may lock. */
  async lock() {
    if (!this.agent || this.locked || !this.deps.canLock()) return;
    const here = document.activeElement;
    this.focusBeforeLock = here instanceof HTMLElement ? here : null;
    this.locked = this.agent;
    await this.deps.closeDesk();
    // The screen stays locked if this fails all the same; unlocking checks the password.
    await this.host()
      .lock()
      .catch((reason) => this.fail(reason));
  }

  /** 换人: the desk on screen closed (the core forgot its key); the sign-in screen lists who else. */
  async switchedUser(leave: () => void) {
    this.agent = null;
    this.locked = null;
    this.picked = false;
    this.checked = true;
    this.focusBeforeLock = null;
    leave();
    await tick();
    document
      .querySelector<HTMLElement>('[data-testid="known-agent"], [data-testid="sign-in-agent"]')
      ?.focus();
    await this.readConnection();
  }

  /** An agent known on this PC chose their name: their lock screen, to open their store. */
  pick(who: KnownAgent) {
    // Whose desk opens (and its role) is known once the password opened it.
    this.locked = {
      code: who.code,
      name: who.name,
      queues: [],
      locked: true,
      practice: false,
      role: null,
    };
    this.picked = true;
  }

  /** The password was right: the desk comes back, with the focus where it was. */
  async unlocked(answer: UnlockAnswer) {
    // Locked since start or picked after 换人: the desk appears now for the first time.
    this.agent = answer.agent ?? this.agent ?? this.locked;
    this.locked = null;
    this.picked = false;
    this.checked = true;
    // Catch up with what the desk changed while the screen was locked.
    this.version += 1;
    const back = this.focusBeforeLock;
    this.focusBeforeLock = null;
    await tick();
    if (back?.isConnected) back.focus();
  }

  private async readConnection() {
    this.connection = await this.host()
      .connectionStatus()
      .catch(() => this.connection);
  }

  private fail(reason: unknown) {
    this.deps.onfailure(toHostError(reason).code);
  }
}
