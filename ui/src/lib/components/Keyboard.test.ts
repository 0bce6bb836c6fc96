// The desk by keyboard, against the mock host: where the focus goes after
// every action that removes or replaces the focused control (claim, open,
// release, transfer, wrap-up, a notice, a refused action, a dialog, an
// offer), the key that sends a reply (Enter or Ctrl+Enter, never while the
// input method composes), and the offer's countdown on the platform's clock.
import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import App from "../../App.svelte";
import { MOCK_AGENT, MOCK_PASSWORD, createMockHost } from "../host/mock";
import { refuse } from "../host/mock-data";
import { HostError, type ConnectionStatus, type Locale } from "../host";
import { useLocale } from "../i18n/index.svelte";
import { myItem, queueItem, renderDesk, type DeskOptions } from "../testing/render";

/** The desk with rows that claims, releases and wrap-ups change. */
const renderApp = (options: DeskOptions = {}, language?: Locale) =>
  renderDesk({ desk: true, rows: true, ...options }, language);

const focused = () => document.activeElement as HTMLElement | null;
const composer = () => screen.getByTestId("composer-body");

/** Focuses a control and presses Enter on it, as a keyboard user does. */
async function enterOn(element: HTMLElement) {
  element.focus();
  await userEvent.keyboard("{Enter}");
}

/** Opens conversation `customer` from its queue row by keyboard; waits for the reply box. */
async function openByKeyboard(customer: string) {
  await enterOn(await screen.findByRole("button", { name: `打开${customer}的会话` }));
  await waitFor(() => expect(composer(), "the conversation opens in its reply box").toHaveFocus());
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the focus after an action removes the focused control", () => {
  it("signing in by keyboard leaves the focus in the queue, not on the page", async () => {
    useLocale("zh-CN");
    render(App, { props: { host: createMockHost({ queue: [queueItem("c1")] }) } });
    await userEvent.type(await screen.findByTestId("sign-in-agent"), MOCK_AGENT.code);
    await userEvent.type(screen.getByTestId("sign-in-password"), `${MOCK_PASSWORD}{Enter}`);
    await screen.findByTestId("signed-in-as");
    // The queue: its first row, or the list itself while the rows are still on the way.
    await waitFor(() => expect(screen.getByTestId("queue-rows")).toContainElement(focused()));
    await userEvent.keyboard("{Home}");
    expect(screen.getByRole("button", { name: "领取李桂兰的会话" })).toHaveFocus();
  });

  it("signing out by keyboard leaves the focus in the sign-in form", async () => {
    renderApp({ queue: [queueItem("c1")] });
    await enterOn(await screen.findByTestId("sign-out"));
    await waitFor(() => expect(screen.getByTestId("sign-in-agent")).toHaveFocus());
  });

  it("claiming by Enter keeps the focus in the row, on its Open button; Open puts it in the reply box", async () => {
    const { host } = renderApp({
      queue: [queueItem("c1"), queueItem("c2", { customerName: "周芳" })],
    });
    await enterOn(await screen.findByRole("button", { name: "领取周芳的会话" }));
    await waitFor(() => expect(host.calls).toContain("claim:c2"));
    const open = await screen.findByRole("button", { name: "打开周芳的会话" });
    await waitFor(() => expect(open, "not <body>: the agent stays in the row").toHaveFocus());
    expect(open.closest("tr")).toHaveAttribute("data-conversation", "c2");

    await userEvent.keyboard("{Enter}");
    await screen.findByTestId("thread");
    await waitFor(() => expect(composer()).toHaveFocus());
  });

  it("claiming from the unassigned list, where the row leaves, moves to the next row, else the list", async () => {
    renderApp({ queue: [queueItem("c1"), queueItem("c2", { customerName: "周芳" })] });
    await userEvent.click(await screen.findByTestId("queue-scope-unassigned"));
    await enterOn(await screen.findByRole("button", { name: "领取李桂兰的会话" }));
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "领取周芳的会话" })).toHaveFocus(),
    );
    await userEvent.keyboard("{Enter}");
    await screen.findByTestId("queue-empty");
    await waitFor(() => expect(screen.getByTestId("queue-rows")).toHaveFocus());
  });

  it("a re-read that swaps the focused row's button keeps the focus in the row, else the next row", async () => {
    const { host } = renderApp({
      queue: [myItem("c1"), queueItem("c2", { customerName: "周芳" })],
    });
    (await screen.findByRole("button", { name: "打开李桂兰的会话" })).focus();
    // The platform's copy arrives without the claim for a moment, then with it.
    await host.release("c1");
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "领取李桂兰的会话" })).toHaveFocus(),
    );
    await host.claim("c1");
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "打开李桂兰的会话" })).toHaveFocus(),
    );
    // A supervisor gives it to a colleague: the row leaves, the next one takes the focus.
    await host.transfer("c1", { agent: "a1002" });
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "领取周芳的会话" })).toHaveFocus(),
    );
  });

  it("releasing goes back to the conversation's row, now with its Claim button", async () => {
    const { host } = renderApp({
      queue: [myItem("c1"), queueItem("c2", { customerName: "周芳" })],
    });
    await openByKeyboard("李桂兰");
    await enterOn(screen.getByTestId("conversation-release"));
    await waitFor(() => expect(host.calls).toContain("release:c1"));
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "领取李桂兰的会话" })).toHaveFocus(),
    );
    expect(screen.queryByTestId("conversation")).toBeNull();
  });

  it("wrapping up by keyboard reaches the next contact", async () => {
    const { host } = renderApp({
      queue: [myItem("c1"), queueItem("c2", { customerName: "周芳" })],
    });
    await openByKeyboard("李桂兰");
    await enterOn(screen.getByTestId("wrap-up-start"));
    await waitFor(() => expect(screen.getByTestId("disposition")).toHaveFocus());
    await enterOn(screen.getByTestId("wrap-up-submit"));
    await waitFor(() => expect(host.calls.some((c) => c.startsWith("wrapUp:c1"))).toBe(true));
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "领取周芳的会话" })).toHaveFocus(),
    );
  });

  it("transferring to a colleague reaches the next contact, and the queue list when none is left", async () => {
    const { host } = renderApp({ queue: [myItem("c1")] });
    await openByKeyboard("李桂兰");
    await enterOn(screen.getByTestId("transfer-open"));
    const colleague = await screen.findByRole("radio", { name: /李春梅/ });
    colleague.focus();
    await userEvent.keyboard(" ");
    await enterOn(screen.getByTestId("transfer-submit"));
    await waitFor(() => expect(host.calls.some((c) => c.startsWith("transfer:c1"))).toBe(true));
    await screen.findByTestId("queue-empty");
    await waitFor(() => expect(screen.getByTestId("queue-rows")).toHaveFocus());
  });

  it("closing the conversation goes back to its row", async () => {
    renderApp({ queue: [myItem("c1"), myItem("c2", { customerName: "周芳" })] });
    await openByKeyboard("周芳");
    await enterOn(screen.getByTestId("conversation-close"));
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "打开周芳的会话" })).toHaveFocus(),
    );
  });

  it("dismissing a notice moves to the next one, and from the last to the desk", async () => {
    const { host } = renderApp({ preferences: { reducedMotion: true }, queue: [myItem("c1")] });
    await screen.findAllByTestId("queue-row");
    for (const title of ["第一条", "第二条"]) {
      host.notice({ kind: "message", conversationId: "c1", title, body: "" });
    }
    await enterOn(await screen.findByRole("button", { name: "关闭提醒：第一条" }));
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "关闭提醒：第二条" })).toHaveFocus(),
    );
    await userEvent.keyboard("{Enter}");
    await waitFor(() => expect(screen.queryByTestId("notice")).toBeNull());
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "打开李桂兰的会话" }), "the queue").toHaveFocus(),
    );
  });

  it("opening a notice's conversation puts the focus in its reply box", async () => {
    const { host } = renderApp({ queue: [myItem("c1")] });
    await screen.findAllByTestId("queue-row");
    host.notice({ kind: "message", conversationId: "c1", title: "李桂兰发来新消息", body: "" });
    await enterOn(await screen.findByRole("button", { name: "打开：李桂兰发来新消息" }));
    await screen.findByTestId("thread");
    await waitFor(() => expect(composer()).toHaveFocus());
  });

  it("'Got it' on a refused action moves to the next one, and from the last to the desk", async () => {
    const { host } = renderApp({ queue: [myItem("c1")] });
    await openByKeyboard("李桂兰");
    refuse(host, 2, { conversationId: "c1" });
    let buttons = await screen.findAllByTestId("conflict-dismiss");
    expect(buttons).toHaveLength(2);
    await enterOn(buttons[0]!);
    await waitFor(() => expect(screen.getAllByTestId("conflict-dismiss")).toHaveLength(1));
    buttons = screen.getAllByTestId("conflict-dismiss");
    await waitFor(() => expect(buttons[0]).toHaveFocus());
    await userEvent.keyboard("{Enter}");
    await waitFor(() => expect(screen.queryByTestId("conflict-banner")).toBeNull());
    await waitFor(() => expect(composer(), "the open conversation's reply box").toHaveFocus());
  });

  it("closing a dialog returns to what opened it: a shortcut from the reply box, a button", async () => {
    renderApp({ queue: [myItem("c1")] });
    await openByKeyboard("李桂兰");
    await userEvent.keyboard("{Alt>}s{/Alt}");
    await screen.findByRole("dialog", { name: "设置" });
    await userEvent.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    await waitFor(() => expect(composer()).toHaveFocus());

    await enterOn(screen.getByTestId("my-day-open"));
    const dialog = await screen.findByRole("dialog", { name: "我的今日" });
    await enterOn(within(dialog).getByRole("button", { name: "关闭" }));
    await waitFor(() => expect(screen.getByTestId("my-day-open")).toHaveFocus());
  });

  it("closing a dialog that nothing focused had opened lands on the desk, not the page", async () => {
    renderApp({ queue: [myItem("c1")] });
    await openByKeyboard("李桂兰");
    // A click on blank space: the page has the focus as F1 opens the help.
    (focused() as HTMLElement).blur();
    await userEvent.keyboard("{F1}");
    await screen.findByTestId("shortcuts-help");
    await userEvent.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByTestId("shortcuts-help")).toBeNull());
    await waitFor(() => expect(composer(), "the open conversation's reply box").toHaveFocus());
  });

  it("an offer takes the focus; declining gives it back, accepting opens the reply box", async () => {
    const { host } = renderApp({
      queue: [myItem("c1"), queueItem("c9", { customerName: "周芳" })],
    });
    await openByKeyboard("李桂兰");
    const offer = (id: string) =>
      host.send({
        type: "offer",
        offer_id: id,
        conversation_id: "c9",
        channel: "chat",
        queue: "aftersales",
        subject: "退款",
        expires_at: Date.now() + 20000,
      });
    offer("o1");
    await waitFor(() => expect(screen.getByTestId("offer-accept")).toHaveFocus());
    await enterOn(screen.getByTestId("offer-decline"));
    await waitFor(() => expect(host.calls).toContain("declineOffer:o1"));
    await waitFor(() => expect(composer(), "back where the agent was typing").toHaveFocus());

    offer("o2");
    await waitFor(() => expect(screen.getByTestId("offer-accept")).toHaveFocus());
    await userEvent.keyboard("{Enter}");
    await waitFor(() => expect(host.calls).toContain("acceptOffer:o2"));
    await waitFor(() => expect(screen.getByRole("heading", { level: 2, name: /周芳/ })));
    await waitFor(() => expect(composer()).toHaveFocus());
  });

  it("dismissing an error leaves the focus on the desk, or in the dialog it was in", async () => {
    const { host } = renderApp({ queue: [queueItem("c1")] });
    vi.spyOn(host, "claim").mockRejectedValue(new HostError("storage", "disk full"));
    await enterOn(await screen.findByRole("button", { name: "领取李桂兰的会话" }));
    const banner = await screen.findByTestId("error-banner");
    await enterOn(within(banner).getByRole("button"));
    await waitFor(() => expect(screen.queryByTestId("error-banner")).toBeNull());
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "领取李桂兰的会话" })).toHaveFocus(),
    );

    vi.spyOn(host, "setPreferences").mockRejectedValue(new HostError("storage", "disk full"));
    await userEvent.keyboard("{Alt>}s{/Alt}");
    const dialog = await screen.findByRole("dialog", { name: "设置" });
    await enterOn(await within(dialog).findByTestId("settings-save"));
    const inDialog = await within(dialog).findByTestId("error-banner");
    await enterOn(within(inDialog).getByRole("button"));
    await waitFor(() => expect(within(dialog).queryByTestId("error-banner")).toBeNull());
    await waitFor(() => expect(dialog).toHaveFocus());
  });

  it("closing a knowledge article goes back to the search box", async () => {
    renderApp();
    const search = await screen.findByTestId("knowledge-search");
    await userEvent.type(search, "退款");
    const hit = await screen.findAllByTestId("knowledge-hit");
    await enterOn(within(hit[0]!).getByRole("button"));
    await screen.findByTestId("knowledge-article");
    await enterOn(screen.getByTestId("kb-close"));
    await waitFor(() => expect(screen.getByTestId("knowledge-search")).toHaveFocus());
  });
});

describe("the key that sends a reply", () => {
  it("sends with Enter and starts a new line with Shift+Enter", async () => {
    const { host } = renderApp({ queue: [myItem("c1")] });
    await openByKeyboard("李桂兰");
    expect(screen.getByTestId("composer-keys")).toHaveTextContent("Enter 发送，Shift+Enter 换行");
    await userEvent.keyboard("亲，您好{Shift>}{Enter}{/Shift}马上帮您查");
    expect(composer()).toHaveValue("亲，您好\n马上帮您查");
    expect(host.calls.some((c) => c.startsWith("reply:"))).toBe(false);
    await userEvent.keyboard("{Enter}");
    await waitFor(() => expect(host.calls).toContain("reply:c1:亲，您好\n马上帮您查:[]"));
    await waitFor(() => expect(composer()).toHaveValue(""));
    expect(composer(), "the agent types on").toHaveFocus();
  });

  it("never sends while the input method is composing", async () => {
    const { host } = renderApp({ queue: [myItem("c1")] });
    await openByKeyboard("李桂兰");
    await userEvent.keyboard("tuikuan");
    // Enter confirms the candidate: isComposing (Chromium, Firefox) or keyCode 229 (WebKit).
    fireEvent.keyDown(composer(), { key: "Enter", code: "Enter", isComposing: true });
    fireEvent.keyDown(composer(), { key: "Enter", code: "Enter", keyCode: 229 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(
      host.calls.some((c) => c.startsWith("reply:")),
      "confirming a word sends nothing",
    ).toBe(false);
    fireEvent.keyDown(composer(), { key: "Enter", code: "Enter", keyCode: 13 });
    await waitFor(() => expect(host.calls).toContain("reply:c1:tuikuan:[]"));
  });

  it("with Ctrl+Enter chosen in Settings, Enter starts a new line and Ctrl+Enter sends; notes too", async () => {
    const { host } = renderApp({ queue: [myItem("c1")] });
    await screen.findAllByTestId("queue-row");
    await userEvent.click(screen.getByTestId("settings-open"));
    const dialog = await screen.findByRole("dialog", { name: "设置" });
    await userEvent.click(
      await within(dialog).findByRole("radio", { name: "按 Ctrl+Enter 发送，Enter 换行" }),
    );
    await userEvent.click(within(dialog).getByTestId("settings-save"));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect((await host.preferences()).sendKey, "saved through the host").toBe("ctrl_enter");

    await openByKeyboard("李桂兰");
    expect(screen.getByTestId("composer-keys")).toHaveTextContent("Ctrl+Enter 发送，Enter 换行");
    await userEvent.keyboard("第一行{Enter}第二行");
    expect(composer()).toHaveValue("第一行\n第二行");
    expect(host.calls.some((c) => c.startsWith("reply:"))).toBe(false);
    await userEvent.keyboard("{Control>}{Enter}{/Control}");
    await waitFor(() => expect(host.calls).toContain("reply:c1:第一行\n第二行:[]"));

    await userEvent.click(screen.getByTestId("composer-as-note"));
    composer().focus();
    await userEvent.keyboard("客户很着急{Control>}{Enter}{/Control}");
    await waitFor(() => expect(host.calls).toContain("note:c1:客户很着急"));

    await userEvent.keyboard("{F1}");
    const help = await screen.findByTestId("shortcuts-help");
    const rows = within(help).getAllByTestId("send-key-row");
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining("Ctrl+Enter"),
      expect.stringContaining("换行"),
    ]);
    expect(rows[0]).toHaveTextContent("Send the reply or internal note");
  });

  it("sends an internal note with Enter by default, the same as a reply", async () => {
    const { host } = renderApp({ queue: [myItem("c1")] });
    await openByKeyboard("李桂兰");
    await userEvent.click(screen.getByTestId("composer-as-note"));
    composer().focus();
    await userEvent.keyboard("已经催过快递{Enter}");
    await waitFor(() => expect(host.calls).toContain("note:c1:已经催过快递"));
    expect(host.calls.some((c) => c.startsWith("reply:"))).toBe(false);
  });

  it("takes a canned reply by keys: / and Enter, its field, Enter, then Enter sends", async () => {
    const { host } = renderApp({ queue: [myItem("c1")] });
    await openByKeyboard("李桂兰");
    await userEvent.keyboard("/sd");
    await screen.findByTestId("canned-suggestion");
    await userEvent.keyboard("{Enter}");
    const field = await screen.findByTestId("canned-field-order_no");
    await waitFor(() => expect(field, "the chosen reply's first field").toHaveFocus());
    await userEvent.keyboard("5188{Enter}");
    await waitFor(() => expect(screen.queryByTestId("canned-template")).toBeNull());
    expect(composer()).toHaveFocus();
    expect(composer()).toHaveValue("亲，您的订单5188我正在帮您查询，请稍等1–2分钟哦～");
    await userEvent.keyboard("{Enter}");
    await waitFor(() =>
      expect(host.calls).toContain("reply:c1:亲，您的订单5188我正在帮您查询，请稍等1–2分钟哦～:[]"),
    );
  });

  it("walks the / menu with the arrow keys and goes back with Esc", async () => {
    renderApp({ queue: [myItem("c1")] });
    await openByKeyboard("李桂兰");
    await userEvent.keyboard("/");
    const suggestions = await screen.findAllByTestId("canned-suggestion");
    expect(suggestions.length).toBeGreaterThan(1);
    await userEvent.keyboard("{ArrowDown}");
    expect(suggestions[0]).toHaveFocus();
    await userEvent.keyboard("{ArrowDown}");
    expect(suggestions[1]).toHaveFocus();
    await userEvent.keyboard("{ArrowUp}{ArrowUp}");
    expect(composer()).toHaveFocus();
    await userEvent.keyboard("{ArrowDown}{Escape}");
    expect(composer()).toHaveFocus();
  });
});

describe("the offer countdown on the platform's clock", () => {
  /** The platform's time in this test; the PC's clock is set apart from it. */
  const PLATFORM_NOW = Date.UTC(2026, 11, 3, 8, 0, 0);

  function online(clockOffsetMs: number): ConnectionStatus {
    return {
      state: "online",
      pendingActions: 0,
      lastSyncAt: null,
      signInNeeded: false,
      problem: null,
      data: { today: 0, month: 0, budget: null, metered: false, warning: false },
      kbUpdateWaiting: null,
      kbUpdating: null,
      clockOffsetMs,
    };
  }

  for (const [pc, skewMs] of [
    ["60 s fast", 60_000],
    ["60 s slow", -60_000],
  ] as const) {
    it(`counts 20 s down and expires on time with a PC clock ${pc}`, async () => {
      vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ["setInterval", "Date"] });
      vi.setSystemTime(PLATFORM_NOW + skewMs);
      // The platform minus this PC: what the sync engine measured.
      const { host } = renderApp({ connection: online(-skewMs), queue: [queueItem("c9")] });
      await screen.findAllByTestId("queue-row");
      host.send({
        type: "offer",
        offer_id: "o1",
        conversation_id: "c9",
        channel: "chat",
        queue: "aftersales",
        subject: "退款",
        expires_at: PLATFORM_NOW + 20_000,
      });
      const prompt = await screen.findByRole("alertdialog");
      expect(prompt).toHaveTextContent(/\b(20|19) 秒内接起/);

      await vi.advanceTimersByTimeAsync(15_000);
      expect(screen.getByRole("alertdialog"), "not expired early").toHaveTextContent(
        /\b[45] 秒内接起/,
      );

      await vi.advanceTimersByTimeAsync(6_500);
      await waitFor(() =>
        expect(screen.queryByRole("alertdialog"), "gone once the platform's time is up").toBeNull(),
      );
    });
  }
});
