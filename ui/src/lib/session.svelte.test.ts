// The session on its own: how the window starts (a locked session stays
// locked and asks for nothing), what the lock takes away first and in which
// order, locking by itself after the agent's minutes, catching up after
// unlocking, and leaving practice for a desk that was locked meanwhile. The
// screens (lock screen, sign-in) are tested through the App in
// AppLevel.test.ts and SignInAndQueue.test.ts.

import { afterEach, describe, expect, it, vi } from "vitest";
import { flushSync } from "svelte";
import { createMockHost, fails, MOCK_AGENT, MOCK_PASSWORD, type MockHost } from "./host/mock";
import type { SignedInAgent } from "./host";
import { DeskSession } from "./session.svelte";

interface Options {
  signedIn?: SignedInAgent;
  canLock?: boolean;
  lockAfterMinutes?: number;
}

let stopRoot: () => void = () => {};

afterEach(() => {
  stopRoot();
  vi.useRealTimers();
});

/** A session as the App makes it; `closed` records when the desk was closed for the lock. */
function setUp(options: Options = {}) {
  const host: MockHost = createMockHost(
    options.signedIn ? { signedIn: options.signedIn } : undefined,
  );
  const failures: string[] = [];
  const closed: string[] = [];
  let session!: DeskSession;
  stopRoot = $effect.root(() => {
    session = new DeskSession({
      host: () => host,
      onfailure: (code) => failures.push(code),
      canLock: () => options.canLock ?? true,
      lockAfterMinutes: () => options.lockAfterMinutes ?? 0,
      closeDesk: async () => {
        closed.push(`closed after ${host.calls.length} calls`);
        await host.declineOffer("o1");
      },
    });
  });
  return { host, session, failures, closed };
}

describe("session", () => {
  it("starts signed in, with the app's information and the connection, then lets the sign-in form show", async () => {
    const { session } = setUp({ signedIn: MOCK_AGENT });
    let found: SignedInAgent | null | undefined;
    await session.start(async (agent) => {
      found = agent;
      expect(session.checked, "the form waits until the desk is listened to").toBe(false);
    });
    expect(found?.code).toBe(MOCK_AGENT.code);
    expect(session.agent?.code).toBe(MOCK_AGENT.code);
    expect(session.info?.version).toBe("0.0.0-mock");
    expect(session.connection?.state).toBe("offline");
    expect(session.checked).toBe(true);
  });

  it("starts locked when the core says so: no desk, and the data version stands still until unlocked", async () => {
    const { host, session } = setUp({ signedIn: { ...MOCK_AGENT, locked: true } });
    await session.start(async () => {});
    expect(session.agent, "the desk stays unbuilt").toBeNull();
    expect(session.locked?.code).toBe(MOCK_AGENT.code);
    expect(session.checked, "no sign-in form behind the lock").toBe(false);

    session.changed();
    expect(session.version, "nothing re-reads behind the lock").toBe(0);

    const answer = await host.unlock(MOCK_PASSWORD);
    expect(answer.unlocked).toBe(true);
    await session.unlocked(answer);
    expect(session.agent?.code).toBe(MOCK_AGENT.code);
    expect(session.locked).toBeNull();
    expect(session.checked).toBe(true);
    expect(session.version, "unlocking catches up").toBe(1);
    session.changed();
    expect(session.version).toBe(2);
  });

  it("says why it could not start, and still lets the sign-in form show", async () => {
    const { host, session, failures } = setUp();
    host.answers.appInfo = fails("storage", "no data folder");
    await session.start(async () => {
      throw new Error("never called");
    });
    expect(failures).toEqual(["storage"]);
    expect(session.checked).toBe(true);
  });

  it("closes the desk before the core locks, once, and never when this agent may not lock", async () => {
    const { host, session, closed } = setUp({ signedIn: MOCK_AGENT });
    await session.start(async () => {});
    await Promise.all([session.lock(), session.lock()]);
    expect(session.locked?.code).toBe(MOCK_AGENT.code);
    expect(closed, "one lock, one close").toHaveLength(1);
    const decline = host.calls.indexOf("declineOffer:o1");
    const lock = host.calls.indexOf("lock");
    expect(decline).toBeGreaterThanOrEqual(0);
    expect(decline, "offers go before the core closes the desk").toBeLessThan(lock);

    const practice = setUp({ signedIn: { ...MOCK_AGENT, practice: true }, canLock: false });
    await practice.session.start(async () => {});
    await practice.session.lock();
    expect(practice.session.locked, "no password to unlock with").toBeNull();
    expect(practice.host.calls).not.toContain("lock");
  });

  it("stays locked when the core cannot lock, and says why", async () => {
    const { host, session, failures } = setUp({ signedIn: MOCK_AGENT });
    await session.start(async () => {});
    host.answers.lock = fails("storage");
    await session.lock();
    expect(session.locked).not.toBeNull();
    expect(failures).toEqual(["storage"]);
  });

  it("locks by itself after the chosen minutes without keyboard or mouse, never with 0", async () => {
    vi.useFakeTimers();
    const idle = setUp({ signedIn: MOCK_AGENT, lockAfterMinutes: 2 });
    await idle.session.start(async () => {});
    flushSync();
    vi.advanceTimersByTime(60_000);
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "a" }));
    vi.advanceTimersByTime(90_000);
    expect(idle.session.locked, "a key pressed a minute in starts the wait again").toBeNull();
    vi.advanceTimersByTime(30_000);
    expect(idle.session.locked?.code).toBe(MOCK_AGENT.code);
    stopRoot();

    const never = setUp({ signedIn: MOCK_AGENT, lockAfterMinutes: 0 });
    await never.session.start(async () => {});
    flushSync();
    vi.advanceTimersByTime(24 * 3600_000);
    expect(never.session.locked).toBeNull();
  });

  it("leaves practice for a desk that was locked meanwhile: it waits for the password", async () => {
    const { session } = setUp({ signedIn: { ...MOCK_AGENT, practice: true } });
    await session.start(async () => {});
    expect(session.practising).toBe(true);
    await session.switchTo({ ...MOCK_AGENT, locked: true });
    expect(session.agent).toBeNull();
    expect(session.locked?.code).toBe(MOCK_AGENT.code);
    expect(session.practising).toBe(false);
    expect(session.version).toBe(1);
  });

  it("signs out: the desk is left; when the host refuses, the agent stays", async () => {
    const { host, session, failures } = setUp({ signedIn: MOCK_AGENT });
    await session.start(async () => {});
    let left = 0;
    host.answers.signOut = fails("unreachable");
    await session.signOut(() => (left += 1));
    expect(session.agent?.code, "still signed in").toBe(MOCK_AGENT.code);
    expect([left, failures]).toEqual([0, ["unreachable"]]);

    delete host.answers.signOut;
    await session.signOut(() => (left += 1));
    expect(session.agent).toBeNull();
    expect(left).toBe(1);
  });
});
