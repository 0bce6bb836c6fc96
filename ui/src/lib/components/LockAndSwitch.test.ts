// The lock at start and on a shared PC, against the mock host: the wait the
// core imposes after 5 wrong passwords shows as a countdown with the field
// disabled (both languages), and 换人 closes the desk and offers the agents
// known on this PC, one of whom opens their own desk offline.
import { afterEach, describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { MOCK_AGENT, MOCK_PASSWORD, type MockHost } from "../host/mock";
import type { KnownAgent, Locale, UnlockAnswer } from "../host";
import { myItem, renderDesk, seriousViolations } from "../testing/render";

afterEach(() => vi.useRealTimers());

const OTHER: KnownAgent = { code: "a1003", name: "李春梅", savedSession: true };
const KNOWN: KnownAgent[] = [
  { code: MOCK_AGENT.code, name: MOCK_AGENT.name, savedSession: true },
  OTHER,
  { code: "a1005", name: "赵丽", savedSession: false },
];

/** The core's answers after `failures` wrong passwords: a wait from the fifth. */
function throttled(host: MockHost, waitMs: number) {
  let failures = 0;
  host.answers.unlock = async (password): Promise<UnlockAnswer> => {
    if (password === MOCK_PASSWORD) {
      return { unlocked: true, agent: { ...MOCK_AGENT }, failures: 0, retryAfterMs: 0 };
    }
    failures += 1;
    return { unlocked: false, agent: null, failures, retryAfterMs: failures >= 5 ? waitMs : 0 };
  };
}

async function wrong(lock: HTMLElement, times: number) {
  const field = within(lock).getByTestId("unlock-password");
  for (let i = 0; i < times; i++) {
    await userEvent.type(field, "not-it");
    await userEvent.click(within(lock).getByTestId("unlock-submit"));
    await waitFor(() => expect(field).toHaveValue(""));
  }
}

describe("the wait after wrong passwords", () => {
  it.each<[Locale, RegExp, RegExp]>([
    ["zh-CN", /请 30 秒后再试/, /请 29 秒后再试/],
    ["en", /Try again in 30 seconds/, /Try again in 29 seconds/],
  ])(
    "counts down with the field disabled, then lets the agent try again (%s)",
    async (language, first, later) => {
      vi.useFakeTimers({ shouldAdvanceTime: true });
      const { host } = renderDesk(
        { signedIn: { ...MOCK_AGENT, locked: true }, queue: [myItem("c1")] },
        language,
      );
      throttled(host, 30_000);
      const lock = await screen.findByTestId("lock-screen");
      await wrong(lock, 4);
      expect(within(lock).getByTestId("unlock-password")).toBeEnabled();
      await wrong(lock, 1);

      const problem = within(lock).getByTestId("unlock-problem");
      await waitFor(() => expect(problem).toHaveTextContent(first));
      expect(within(lock).getByTestId("unlock-password"), "no typing while waiting").toBeDisabled();
      expect(within(lock).getByTestId("unlock-submit")).toBeDisabled();
      expect(await seriousViolations(), "the lock screen with the wait").toEqual([]);

      await vi.advanceTimersByTimeAsync(1_000);
      await waitFor(() => expect(problem).toHaveTextContent(later));
      await vi.advanceTimersByTimeAsync(29_500);
      await waitFor(() => expect(within(lock).getByTestId("unlock-password")).toBeEnabled());

      await userEvent.type(within(lock).getByTestId("unlock-password"), MOCK_PASSWORD);
      await userEvent.click(within(lock).getByTestId("unlock-submit"));
      expect(await screen.findAllByTestId("queue-row")).toHaveLength(1);
    },
  );

  it("sends no try to the core while the wait runs", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { host } = renderDesk({ signedIn: { ...MOCK_AGENT, locked: true } });
    throttled(host, 60_000);
    const lock = await screen.findByTestId("lock-screen");
    await wrong(lock, 5);
    const tries = host.calls.filter((c) => c.startsWith("unlock:")).length;
    await userEvent.keyboard("{Enter}");
    expect(host.calls.filter((c) => c.startsWith("unlock:"))).toHaveLength(tries);
  });
});

describe("换人 on a shared PC", () => {
  it.each<[Locale, string, string]>([
    ["zh-CN", "换人", "这台电脑上的客服"],
    ["en", "Someone else", "Agents on this PC"],
  ])(
    "closes this desk and lists the agents on this PC; one opens their own desk offline (%s)",
    async (language, button, heading) => {
      const { host } = renderDesk(
        { signedIn: { ...MOCK_AGENT, locked: true }, known: KNOWN, queue: [myItem("c1")] },
        language,
      );
      const lock = await screen.findByTestId("lock-screen");
      await userEvent.click(within(lock).getByRole("button", { name: button }));

      const list = await screen.findByTestId("known-agents");
      expect(host.calls).toContain("switchUser");
      expect(screen.queryByTestId("lock-screen")).toBeNull();
      expect(within(list).getByRole("heading", { name: heading })).toBeInTheDocument();
      expect(within(list).getAllByTestId("known-agent")).toHaveLength(3);
      expect(screen.queryByTestId("queue-row"), "the first agent's desk is gone").toBeNull();
      expect(await seriousViolations(), "the 换人 list").toEqual([]);

      await userEvent.click(within(list).getByRole("button", { name: new RegExp(OTHER.name) }));
      const theirs = await screen.findByTestId("lock-screen");
      expect(theirs).toHaveTextContent(OTHER.name);
      await userEvent.type(within(theirs).getByTestId("unlock-password"), "not-it");
      await userEvent.click(within(theirs).getByTestId("unlock-submit"));
      await waitFor(() => expect(host.calls).toContain(`unlockAs:${OTHER.code}:not-it`));
      await userEvent.type(within(theirs).getByTestId("unlock-password"), MOCK_PASSWORD);
      await userEvent.click(within(theirs).getByTestId("unlock-submit"));
      await waitFor(() => expect(screen.queryByTestId("lock-screen")).toBeNull());
      expect(host.calls).toContain(`unlockAs:${OTHER.code}:${MOCK_PASSWORD}`);
      expect(screen.getByTestId("signed-in-as")).toHaveTextContent(OTHER.name);
    },
  );

  it("an agent without a kept session signs in online: their code is filled in", async () => {
    renderDesk({ signedIn: { ...MOCK_AGENT, locked: true }, known: KNOWN });
    await userEvent.click(await screen.findByTestId("lock-switch-user"));
    await userEvent.click(
      within(await screen.findByTestId("known-agents")).getByRole("button", { name: /赵丽/ }),
    );
    expect(screen.getByTestId("sign-in-agent")).toHaveValue("a1005");
    expect(screen.getByTestId("sign-in-password")).toHaveFocus();
    expect(screen.queryByTestId("lock-screen")).toBeNull();
  });
});
