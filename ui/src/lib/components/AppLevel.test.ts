// What spans the whole window, against the mock host: settings applied
// app-wide, the screen lock (by hand, by shortcut, when idle, at start),
// My day, data used, refused actions, in-app notices, keyboard shortcuts,
// and no serious accessibility violations in either language.
import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { MOCK_AGENT, MOCK_PASSWORD, createMockHost, fails, type MockHost } from "../host/mock";
import type { ConnectionStatus } from "../host";
import { refuse } from "../host/mock-data";
import { myItem, queueItem, renderDesk, seriousViolations } from "../testing/render";
import { SHORTCUTS } from "../shortcuts";

/** The preferences the UI last asked the host to save. */
function savedPreferences(host: MockHost) {
  const call = host.calls.filter((c) => c.startsWith("setPreferences:")).pop();
  return call ? JSON.parse(call.slice("setPreferences:".length)) : null;
}

const root = () => document.documentElement;
const shell = () => document.querySelector<HTMLElement>(".shell")!;

/** Serious and critical axe findings (colour contrast cannot be computed in jsdom). */
afterEach(() => {
  vi.useRealTimers();
  delete root().dataset.textSize;
  root().classList.remove("high-contrast", "reduced-motion");
});

describe("settings", () => {
  it("saves text size and high contrast through the host and applies them to the whole page at once", async () => {
    const { host } = renderDesk();
    await screen.findByTestId("queue-empty");
    const open = screen.getByTestId("settings-open");
    await userEvent.click(open);

    const dialog = await screen.findByRole("dialog", { name: "设置" });
    const size = await within(dialog).findByTestId("settings-text-size");
    expect(size, "the first field takes the focus so the keyboard starts inside").toHaveFocus();
    expect(size).toHaveValue("normal");
    expect(shell().inert, "the desk behind a dialog cannot be reached").toBe(true);

    await userEvent.selectOptions(size, "large");
    await userEvent.click(within(dialog).getByTestId("settings-high-contrast"));
    await userEvent.click(within(dialog).getByTestId("settings-reduced-motion"));
    await userEvent.clear(within(dialog).getByTestId("settings-lock-minutes"));
    await userEvent.type(within(dialog).getByTestId("settings-lock-minutes"), "１５");
    await userEvent.click(within(dialog).getByTestId("settings-save"));

    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(savedPreferences(host), "full-width digits from the input method count").toMatchObject({
      textSize: "large",
      lockAfterMinutes: 15,
    });
    expect(root().dataset.textSize).toBe("large");
    expect(root()).toHaveClass("high-contrast");
    expect(root()).toHaveClass("reduced-motion");
    expect(shell().inert).toBe(false);
    await waitFor(() => expect(open, "focus goes back to the opener").toHaveFocus());

    const saved = await host.preferences();
    expect(saved).toMatchObject({ textSize: "large", highContrast: true, lockAfterMinutes: 15 });
  });

  it("refuses lock minutes outside 0 to 240 at the field, without asking the host", async () => {
    const { host } = renderDesk();
    await userEvent.click(await screen.findByTestId("settings-open"));
    const minutes = await screen.findByTestId("settings-lock-minutes");
    for (const bad of ["241", "-1", "1.5", "abc", ""]) {
      await userEvent.clear(minutes);
      if (bad !== "") await userEvent.type(minutes, bad);
      await userEvent.click(screen.getByTestId("settings-save"));
      expect(await screen.findByTestId("settings-lock-error")).toHaveTextContent(
        "请填 0 到 240 之间的整数",
      );
      expect(minutes, `"${bad}" is marked invalid`).toHaveAttribute("aria-invalid", "true");
      expect(minutes).toHaveFocus();
    }
    expect(host.calls.some((c) => c.startsWith("setPreferences"))).toBe(false);
  });

  it("saves a monthly data budget and metered mode, and refuses a budget that is not whole MB", async () => {
    const { host } = renderDesk();
    await userEvent.click(await screen.findByTestId("settings-open"));
    const budget = await screen.findByTestId("settings-data-budget");
    expect(budget).toHaveValue("0");
    for (const bad of ["-5", "1.5", "很多", "99999999"]) {
      await userEvent.clear(budget);
      await userEvent.type(budget, bad);
      await userEvent.click(screen.getByTestId("settings-save"));
      expect(await screen.findByTestId("settings-budget-error")).toHaveTextContent(
        "请填 0 或正整数（单位 MB）",
      );
      expect(budget).toHaveFocus();
    }
    expect(host.calls.some((c) => c.startsWith("setPreferences"))).toBe(false);

    await userEvent.clear(budget);
    await userEvent.type(budget, "５００");
    await userEvent.click(screen.getByTestId("settings-metered"));
    await userEvent.click(screen.getByTestId("settings-save"));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(savedPreferences(host)).toMatchObject({ monthlyDataBudgetMb: 500, metered: true });
  });

  it("keeps the old settings in force and says why when saving fails", async () => {
    const { host } = renderDesk({
      preferences: { textSize: "larger" },
      answers: { setPreferences: fails("storage", "cannot save settings.json") },
    });
    await waitFor(() => expect(root().dataset.textSize).toBe("larger"));
    await userEvent.click(await screen.findByTestId("settings-open"));
    const size = await screen.findByTestId("settings-text-size");
    await userEvent.selectOptions(size, "normal");
    await userEvent.click(screen.getByTestId("settings-high-contrast"));
    await userEvent.click(screen.getByTestId("settings-save"));

    const dialog = screen.getByRole("dialog", { name: "设置" });
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("保存失败");
    expect(root().dataset.textSize, "nothing changes until the host has saved").toBe("larger");
    expect(root()).not.toHaveClass("high-contrast");
    expect(savedPreferences(host)).toMatchObject({ textSize: "normal", lockAfterMinutes: 5 });

    await userEvent.click(within(dialog).getByTestId("settings-cancel"));
    await userEvent.click(screen.getByTestId("settings-open"));
    expect(await screen.findByTestId("settings-text-size")).toHaveValue("larger");
    expect(screen.getByTestId("settings-high-contrast")).not.toBeChecked();
  });

  it("traps Tab inside the dialog and closes on Esc", async () => {
    renderDesk();
    await userEvent.click(await screen.findByTestId("settings-open"));
    const dialog = await screen.findByRole("dialog", { name: "设置" });
    await within(dialog).findByTestId("settings-text-size");
    const close = within(dialog).getByRole("button", { name: "关闭" });
    const cancel = within(dialog).getByTestId("settings-cancel");
    cancel.focus();
    await userEvent.tab();
    expect(close, "Tab from the last control wraps to the first").toHaveFocus();
    await userEvent.tab({ shift: true });
    expect(cancel, "Shift+Tab from the first wraps to the last").toHaveFocus();
    await userEvent.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    await waitFor(() => expect(screen.getByTestId("settings-open")).toHaveFocus());
  });
});

describe("screen lock", () => {
  it("locks by button, hides the desk, says a wrong password plainly and returns where the agent was", async () => {
    const { host } = renderDesk({ queue: [myItem("c1")] });
    await userEvent.click(await screen.findByRole("button", { name: "打开李桂兰的会话" }));
    await screen.findByTestId("conversation");
    const lockButton = screen.getByTestId("lock-now");
    await userEvent.click(lockButton);

    const lock = await screen.findByTestId("lock-screen");
    expect(host.calls).toContain("lock");
    expect(lock).toHaveTextContent("王秀英");
    expect(shell().inert, "nothing behind the lock can be focused").toBe(true);
    expect(shell(), "nothing behind the lock is shown").toHaveClass("behind-lock");
    const password = within(lock).getByTestId("unlock-password");
    await waitFor(() => expect(password).toHaveFocus());

    await userEvent.click(within(lock).getByTestId("unlock-submit"));
    expect(await within(lock).findByTestId("unlock-problem")).toHaveTextContent("请先输入密码");
    await userEvent.type(password, "not-it");
    await userEvent.click(within(lock).getByTestId("unlock-submit"));
    await waitFor(() =>
      expect(within(lock).getByTestId("unlock-problem")).toHaveTextContent(
        "密码错了（第 1 次）。再错 4 次",
      ),
    );
    expect(password, "a wrong password is not kept in the page").toHaveValue("");
    expect(screen.getByTestId("lock-screen")).toBeInTheDocument();

    await userEvent.type(password, MOCK_PASSWORD);
    await userEvent.keyboard("{Enter}");
    await waitFor(() => expect(screen.queryByTestId("lock-screen")).not.toBeInTheDocument());
    expect(shell().inert).toBe(false);
    expect(screen.getByTestId("conversation"), "the open conversation is still open").toBeVisible();
    await waitFor(() => expect(lockButton).toHaveFocus());
  });

  it("starts locked when the core says so, and asks for no customer data until unlocked", async () => {
    const { host } = renderDesk({
      signedIn: { ...MOCK_AGENT, locked: true },
      queue: [myItem("c1")],
    });
    const lock = await screen.findByTestId("lock-screen");
    await userEvent.type(within(lock).getByTestId("unlock-password"), MOCK_PASSWORD);
    expect(host.calls.filter((c) => c.startsWith("queue:"))).toEqual([]);
    expect(screen.queryByTestId("queue-row")).not.toBeInTheDocument();

    await userEvent.click(within(lock).getByTestId("unlock-submit"));
    expect(await screen.findAllByTestId("queue-row")).toHaveLength(1);
    expect(screen.queryByTestId("lock-screen")).not.toBeInTheDocument();
    expect(screen.queryByRole("alert"), "no 'locked' errors from behind the lock").toBeNull();
  });

  it("locks by itself after the chosen minutes without keyboard or mouse", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { host } = renderDesk({ preferences: { lockAfterMinutes: 1 } });
    await screen.findByTestId("queue-empty");
    // Give the preferences a moment to arrive and the watch to start.
    await vi.advanceTimersByTimeAsync(100);

    await vi.advanceTimersByTimeAsync(45_000);
    fireEvent.keyDown(window, { key: "a", code: "KeyA" });
    await vi.advanceTimersByTimeAsync(45_000);
    expect(host.calls, "activity restarts the wait").not.toContain("lock");
    expect(screen.queryByTestId("lock-screen")).not.toBeInTheDocument();

    await vi.advanceTimersByTimeAsync(16_000);
    expect(await screen.findByTestId("lock-screen")).toBeInTheDocument();
    expect(host.calls).toContain("lock");
  });

  it("declines the offer on screen when the screen locks, before the desk closes, and shows none after", async () => {
    const { host } = renderDesk({ queue: [queueItem("c2")] });
    await screen.findAllByTestId("queue-row");
    host.send({
      type: "offer",
      offer_id: "o-1",
      conversation_id: "c2",
      channel: "chat",
      queue: "presales",
      subject: "退款",
      expires_at: Date.now() + 600_000,
    });
    expect(await screen.findByTestId("offer")).toBeInTheDocument();

    await userEvent.click(screen.getByTestId("lock-now"));
    const lock = await screen.findByTestId("lock-screen");
    await waitFor(() => expect(host.calls).toContain("lock"));
    const declined = host.calls.indexOf("declineOffer:o-1");
    expect(declined, "nobody is at the desk to take it: a colleague should").toBeGreaterThan(-1);
    expect(declined, "declined while the desk still takes actions").toBeLessThan(
      host.calls.indexOf("lock"),
    );

    await userEvent.type(within(lock).getByTestId("unlock-password"), MOCK_PASSWORD);
    await userEvent.click(within(lock).getByTestId("unlock-submit"));
    await waitFor(() => expect(screen.queryByTestId("lock-screen")).not.toBeInTheDocument());
    expect(screen.queryByTestId("offer"), "the declined offer does not come back").toBeNull();
  });

  it("never locks by itself when the agent chose 0 minutes", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { host } = renderDesk({ preferences: { lockAfterMinutes: 0 } });
    await screen.findByTestId("queue-empty");
    await vi.advanceTimersByTimeAsync(5 * 3600_000);
    expect(host.calls).not.toContain("lock");
    expect(screen.queryByTestId("lock-screen")).not.toBeInTheDocument();
  });
});

describe("my day", () => {
  it("shows today's figures, '—' where there are none yet, and refreshes while open", async () => {
    const { host } = renderDesk({
      queue: [myItem("next")],
      answers: {
        myDay: async () => ({
          handled: 1,
          averageHandleSecs: 600,
          averageFirstResponseSecs: 120,
          slaKept: 1,
          slaTotal: 1,
        }),
      },
    });
    await screen.findAllByTestId("queue-row");
    await userEvent.click(screen.getByTestId("my-day-open"));
    const day = await screen.findByTestId("my-day");
    expect(day).toHaveAccessibleName("我的今日");
    await waitFor(() =>
      expect(within(day).getByTestId("my-day-handled")).toHaveTextContent("1 个"),
    );
    expect(within(day).getByTestId("my-day-handle-time")).toHaveTextContent("10 分 0 秒");
    expect(within(day).getByTestId("my-day-first-response")).toHaveTextContent("2 分 0 秒");
    expect(within(day).getByTestId("my-day-sla")).toHaveTextContent("1 个里按时 1 个（100%）");

    // Another contact is wrapped up: the desk says something changed.
    host.answers.myDay = async () => ({
      handled: 2,
      averageHandleSecs: 500,
      averageFirstResponseSecs: 150,
      slaKept: 2,
      slaTotal: 2,
    });
    host.send({ type: "changed" });
    await waitFor(() =>
      expect(within(day).getByTestId("my-day-handled")).toHaveTextContent("2 个"),
    );
    expect(within(day).getByTestId("my-day-sla")).toHaveTextContent("2 个里按时 2 个（100%）");
  });

  it("says '—' (and 'none yet' to screen readers) before anything was handled", async () => {
    renderDesk();
    await userEvent.click(await screen.findByTestId("my-day-open"));
    const day = await screen.findByTestId("my-day");
    await waitFor(() =>
      expect(within(day).getByTestId("my-day-handled")).toHaveTextContent("0 个"),
    );
    for (const id of ["my-day-handle-time", "my-day-first-response", "my-day-sla"]) {
      expect(within(day).getByTestId(id)).toHaveTextContent("—暂无");
    }
  });
});

describe("status bar", () => {
  it("shows today's and this month's data on the wire, and follows the desk", async () => {
    const status = (
      data: Partial<ConnectionStatus["data"]>,
      waiting = false,
    ): ConnectionStatus => ({
      state: "online",
      pendingActions: 0,
      lastSyncAt: null,
      signInNeeded: false,
      problem: null,
      data: { today: 0, month: 0, budget: null, metered: false, warning: false, ...data },
      kbUpdateWaiting: waiting ? { articles: 100, bytes: 3 * 1024 * 1024 } : null,
      kbUpdating: null,
      clockOffsetMs: 0,
    });
    const { host } = renderDesk({ connection: status({ today: 512 * 1024, month: 3584 * 1024 }) });
    expect(await screen.findByTestId("data-used")).toHaveTextContent(
      "流量：今天 512 KB，本月 3.5 MB",
    );
    expect(screen.queryByTestId("data-budget-warning")).toBeNull();

    // 80 % of a 100 MB plan: the month is shown against it, with a warning in words.
    host.send({
      type: "status",
      status: status(
        { today: 1024 * 1024, month: 85 * 1024 * 1024, budget: 100 * 1024 * 1024, warning: true },
        true,
      ),
    });
    await waitFor(() =>
      expect(screen.getByTestId("data-used")).toHaveTextContent(
        "流量：今天 1.0 MB，本月 85.0 MB / 100.0 MB",
      ),
    );
    expect(screen.getByTestId("data-budget-warning")).toHaveTextContent("本月流量已用 85%");

    // A knowledge-base update waits on the metered link: one click fetches it.
    const allow = screen.getByTestId("kb-update-allow");
    expect(allow).toHaveTextContent("知识库有 100 篇更新待下载（约 1.0 MB）");
    await userEvent.click(allow);
    await waitFor(() => expect(host.calls).toContain("allowKbUpdate"));

    // While a large update is written in, the status bar says how far it is.
    host.send({
      type: "status",
      status: { ...status({}), kbUpdating: { applied: 1200, total: 5000 } },
    });
    const updating = await screen.findByTestId("kb-updating");
    expect(updating).toHaveTextContent("正在更新知识库：1200/5000 篇");
    expect(updating.querySelector("progress")?.getAttribute("value")).toBe("1200");
    host.send({
      type: "status",
      status: { ...status({}), kbUpdating: { applied: 500, total: null } },
    });
    await waitFor(() =>
      expect(screen.getByTestId("kb-updating")).toHaveTextContent("正在更新知识库，已更新 500 篇…"),
    );
    host.send({ type: "status", status: status({}) });
    await waitFor(() => expect(screen.queryByTestId("kb-updating")).toBeNull());
  });

  it("explains refused actions in the interface language; opens the conversation and dismisses each", async () => {
    const { host } = renderDesk({ queue: [myItem("c1")] });
    // One refused before this start: it is read at once.
    refuse(host, 1, {
      conversationId: "c1",
      action: "wrap_up",
      code: "already_resolved",
      params: {},
      holderName: null,
      message: "conversation c1 was already resolved",
    });
    const list = await screen.findByTestId("conflict-list");
    expect(within(list).getAllByTestId("conflict-item")).toHaveLength(1);

    refuse(host, 1, { conversationId: "c1", action: "reply" });
    await waitFor(() => expect(within(list).getAllByTestId("conflict-item")).toHaveLength(2));
    const [newest, oldest] = within(list).getAllByTestId("conflict-item");
    expect(newest).toHaveTextContent("回复客户没能提交");
    expect(newest).toHaveTextContent("原因：这个会话现在由李春梅负责，你的操作没有生效。");
    expect(oldest).toHaveTextContent("原因：这个会话已经结束了");
    expect(
      list,
      "the platform's English never shows in the Chinese interface",
    ).not.toHaveTextContent(/assigned to you|already resolved/);
    expect(newest).toHaveTextContent("会话 c1");
    expect(screen.getByTestId("conflict-banner")).toHaveTextContent("有 2 条操作没能提交");

    await userEvent.click(within(newest!).getByRole("button", { name: "打开会话" }));
    expect(await screen.findByTestId("conversation")).toBeInTheDocument();

    await userEvent.click(within(newest!).getByRole("button", { name: "知道了" }));
    await waitFor(() => expect(within(list).getAllByTestId("conflict-item")).toHaveLength(1));
    expect(host.calls.some((c) => c.startsWith("dismissConflict:"))).toBe(true);
    expect(await host.conflicts(), "dismissed for good, not just hidden").toHaveLength(1);
  });
});

describe("refused call log", () => {
  for (const [language, says] of [
    ["zh-CN", ["记录通话没能提交", "不能超过 4 小时"]],
    ["en", ["Call log was not accepted", "last over 4 hours"]],
  ] as const) {
    it(`says in ${language} that a call log was refused and why, with the limit`, async () => {
      const { host } = renderDesk({ queue: [myItem("c1")] }, language);
      refuse(host, 1, {
        conversationId: "c1",
        action: "call_log",
        code: "invalid_duration",
        params: { limit: 14_400, field: "ended_at" },
        holderName: null,
        message: "ended_at: a call of 20000 s is longer than 14400 s",
      });
      const item = await screen.findByTestId("conflict-item");
      for (const text of says) expect(item).toHaveTextContent(text);
      expect(item).not.toHaveTextContent("longer than");
    });
  }
});

describe("queue filters, platform clock and windowing", () => {
  it("filters by channel and by priority", async () => {
    renderDesk({
      queue: [
        queueItem("chat1", { channel: "chat", priority: "urgent", customerName: "张建国" }),
        queueItem("call1", { channel: "phone", priority: "normal", customerName: "赵敏" }),
        queueItem("tick1", { channel: "ticket", priority: "urgent", customerName: "孙丽" }),
      ],
    });
    expect(await screen.findAllByTestId("queue-row")).toHaveLength(3);
    const channel = screen.getByTestId("channel-filter");
    expect(channel).toHaveAccessibleName("渠道");
    await userEvent.selectOptions(channel, "phone");
    expect(screen.getAllByTestId("queue-row").map((r) => r.dataset.conversation)).toEqual([
      "call1",
    ]);
    await userEvent.selectOptions(channel, "all");
    await userEvent.selectOptions(screen.getByTestId("priority-filter"), "urgent");
    expect(screen.getAllByTestId("queue-row").map((r) => r.dataset.conversation)).toEqual([
      "chat1",
      "tick1",
    ]);
    await userEvent.selectOptions(channel, "phone");
    expect(screen.getByTestId("queue-filtered-empty")).toHaveTextContent("没有符合筛选条件");
  });

  it("in a narrow column shows three columns, with channel and last message under the name", async () => {
    const { default: QueueView } = await import("./QueueView.svelte");
    render(QueueView, {
      host: createMockHost({
        signedIn: MOCK_AGENT,
        queue: [queueItem("call1", { channel: "phone", priority: "urgent", customerName: "赵敏" })],
      }),
      compact: true,
      onopen: () => {},
    });
    const row = await screen.findByTestId("queue-row");
    expect(screen.getAllByRole("columnheader")).toHaveLength(3);
    expect(row).toHaveTextContent("赵敏");
    expect(row).toHaveTextContent("电话回拨");
    expect(row).toHaveTextContent("紧急");
  });

  it("counts SLAs down on the platform's clock, not this PC's", async () => {
    const now = Date.now();
    renderDesk({
      connection: {
        state: "online",
        pendingActions: 0,
        lastSyncAt: now,
        signInNeeded: false,
        problem: null,
        data: { today: 0, month: 0, budget: null, metered: false, warning: false },
        kbUpdateWaiting: null,
        kbUpdating: null,
        // The platform is eight minutes ahead of this PC.
        clockOffsetMs: 8 * 60000,
      },
      queue: [queueItem("c1", { firstResponseDue: now + 10 * 60000 })],
    });
    const sla = await screen.findByTestId("queue-sla");
    expect(sla).toHaveTextContent("2 分钟");
    expect(sla, "under five minutes on the platform's clock").toHaveClass("amber");
  });

  it("keeps only a window of a 500-row queue in the DOM and brings later rows in on scroll and by keyboard", async () => {
    const many = Array.from({ length: 500 }, (_, i) =>
      queueItem(`q${String(i).padStart(3, "0")}`, { customerName: `客户${i}` }),
    );
    renderDesk({ queue: many });
    const rows = await screen.findAllByTestId("queue-row");
    expect(rows.length, "a window, not all 500").toBeLessThan(60);
    expect(rows[0]).toHaveAttribute("aria-rowindex", "2");
    const table = screen.getByRole("table");
    expect(table, "screen readers hear the full count").toHaveAttribute("aria-rowcount", "501");
    expect(screen.getByTestId("queue-count")).toHaveTextContent("共 500 个会话");

    const scroller = screen.getByTestId("queue-rows");
    scroller.scrollTop = 300 * 48;
    await fireEvent.scroll(scroller);
    await waitFor(() =>
      expect(document.querySelector('[data-conversation="q300"]')).toBeInTheDocument(),
    );
    expect(document.querySelector('[data-conversation="q000"]')).not.toBeInTheDocument();
    expect(screen.getAllByTestId("queue-row").length).toBeLessThan(60);
    const row300 = document.querySelector('[data-conversation="q300"]')!;
    expect(row300).toHaveAttribute("aria-rowindex", "302");

    // Keyboard: End goes to the last row, Up one back, Home to the first.
    within(row300 as HTMLElement)
      .getByRole("button")
      .focus();
    await userEvent.keyboard("{End}");
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "领取客户499的会话" })).toHaveFocus(),
    );
    await userEvent.keyboard("{ArrowUp}");
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "领取客户498的会话" })).toHaveFocus(),
    );
    await userEvent.keyboard("{Home}");
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "领取客户0的会话" })).toHaveFocus(),
    );
    await userEvent.keyboard("{ArrowDown}");
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "领取客户1的会话" })).toHaveFocus(),
    );
    expect(screen.getAllByTestId("queue-row").length).toBeLessThan(60);
  });
});

describe("in-app notices", () => {
  const message = {
    kind: "message" as const,
    conversationId: "c1",
    title: "李桂兰发来新消息",
    body: "桃子坏了三个",
  };

  it("lists notices politely; Open opens the conversation, dismiss removes one", async () => {
    const { host } = renderDesk({ queue: [myItem("c1")] });
    await screen.findAllByTestId("queue-row");
    host.notice(message);
    host.notice({ kind: "sla", conversationId: "c1", title: "李桂兰的会话快超时了", body: "" });
    const region = screen.getByTestId("notices");
    expect(region).toHaveAttribute("role", "status");
    expect(region).toHaveAttribute("aria-live", "polite");
    const notices = await within(region).findAllByTestId("notice");
    expect(notices).toHaveLength(2);
    expect(notices[0]).toHaveTextContent("客户新消息");
    expect(notices[0]).toHaveTextContent("桃子坏了三个");

    await userEvent.click(
      within(notices[1]!).getByRole("button", { name: "关闭提醒：李桂兰的会话快超时了" }),
    );
    await waitFor(() => expect(within(region).getAllByTestId("notice")).toHaveLength(1));
    await userEvent.click(within(region).getByRole("button", { name: "打开：李桂兰发来新消息" }));
    expect(await screen.findByTestId("conversation")).toBeInTheDocument();
    expect(within(region).queryByTestId("notice")).toBeNull();
  });

  it("goes away by itself after ten seconds, but not while it has the focus", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { host } = renderDesk({ queue: [myItem("c1")] });
    await screen.findAllByTestId("queue-row");
    host.notice(message);
    host.notice({ ...message, title: "第二条" });
    const [first, second] = await screen.findAllByTestId("notice");
    within(second!)
      .getByRole("button", { name: /关闭提醒/ })
      .focus();
    await vi.advanceTimersByTimeAsync(10_500);
    expect(first).not.toBeInTheDocument();
    expect(second, "a focused notice stays").toBeInTheDocument();
    (document.activeElement as HTMLElement).blur();
    await fireEvent.focusOut(second!);
    await vi.advanceTimersByTimeAsync(50);
    await waitFor(() => expect(screen.queryByTestId("notice")).toBeNull());
  });

  it("stays until dismissed when the agent asked for less motion, and none show with notifications off", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { host, unmount } = renderDesk({ preferences: { reducedMotion: true } });
    await screen.findByTestId("queue-empty");
    await waitFor(() => expect(root()).toHaveClass("reduced-motion"));
    host.notice(message);
    await screen.findByTestId("notice");
    await vi.advanceTimersByTimeAsync(30_000);
    expect(screen.getByTestId("notice")).toBeInTheDocument();
    unmount();
    vi.useRealTimers();

    const quiet = renderDesk({ preferences: { notifications: false } });
    await screen.findByTestId("queue-empty");
    await waitFor(() => expect(quiet.host.calls).toContain("preferences"));
    await new Promise((resolve) => setTimeout(resolve, 0));
    quiet.host.notice(message);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(screen.queryByTestId("notice")).toBeNull();
  });
});

describe("keyboard shortcuts", () => {
  it("opens settings, My day and the help with Alt+S, Alt+D and F1; Esc closes each", async () => {
    renderDesk();
    await screen.findByTestId("queue-empty");
    for (const [keys, name] of [
      ["{Alt>}s{/Alt}", "设置"],
      ["{Alt>}d{/Alt}", "我的今日"],
      ["{F1}", "键盘快捷键"],
      ["{Alt>}/{/Alt}", "键盘快捷键"],
    ] as const) {
      await userEvent.keyboard(keys);
      expect(await screen.findByRole("dialog", { name }), keys).toBeInTheDocument();
      await userEvent.keyboard("{Escape}");
      await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    }
  });

  it("lists every shortcut in the help, in this language and the other", async () => {
    renderDesk({}, "en");
    await screen.findByTestId("queue-empty");
    await userEvent.click(screen.getByTestId("shortcuts-open"));
    const help = await screen.findByTestId("shortcuts-help");
    const rows = within(help).getAllByTestId("shortcut-row");
    expect(rows).toHaveLength(SHORTCUTS.length);
    expect(help).toHaveTextContent("Lock the screen now");
    expect(help).toHaveTextContent("马上锁屏");
    expect(help).toHaveTextContent("Alt+L");
  });

  it("moves to the queue, the reply box and the knowledge search with Alt+1/2/3", async () => {
    renderDesk({ queue: [myItem("c1")] });
    const open = await screen.findByRole("button", { name: "打开李桂兰的会话" });
    await userEvent.keyboard("{Alt>}2{/Alt}");
    expect(await screen.findByTestId("announcer")).toHaveTextContent("现在没有可以跳过去的地方");

    await userEvent.keyboard("{Alt>}1{/Alt}");
    await waitFor(() => expect(open).toHaveFocus());
    await userEvent.keyboard("{Enter}");
    await screen.findByTestId("conversation");
    await userEvent.keyboard("{Alt>}2{/Alt}");
    await waitFor(() => expect(screen.getByTestId("composer-body")).toHaveFocus());
    await userEvent.keyboard("{Alt>}3{/Alt}");
    await waitFor(() => expect(screen.getByTestId("knowledge-search")).toHaveFocus());
  });

  it("locks with Alt+L, and no shortcut works behind the lock", async () => {
    const { host } = renderDesk();
    await screen.findByTestId("queue-empty");
    await userEvent.keyboard("{Alt>}l{/Alt}");
    await screen.findByTestId("lock-screen");
    expect(host.calls).toContain("lock");
    await userEvent.keyboard("{Alt>}s{/Alt}");
    await userEvent.keyboard("{F1}");
    expect(screen.queryByRole("dialog", { name: "设置" })).toBeNull();
    expect(screen.queryByTestId("shortcuts-help")).toBeNull();
  });

  it("leaves the webview's own keys alone", async () => {
    renderDesk();
    await screen.findByTestId("queue-empty");
    await userEvent.keyboard("{Control>}s{/Control}");
    await userEvent.keyboard("{Control>}{Alt>}s{/Alt}{/Control}");
    await userEvent.keyboard("{Control>}l{/Control}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(screen.queryByTestId("lock-screen")).toBeNull();
  });
});

describe("accessibility", () => {
  for (const language of ["zh-CN", "en"] as const) {
    it(`has no serious or critical axe violations in ${language}: dialogs, notices, conflicts, lock`, async () => {
      const { host } = renderDesk({ queue: [myItem("c1"), queueItem("c2")] }, language);
      await screen.findAllByTestId("queue-row");
      refuse(host, 1, { conversationId: "c1" });
      host.notice({ kind: "offer", conversationId: "c2", title: "新客户", body: "退款" });
      await screen.findByTestId("conflict-list");
      await screen.findByTestId("notice");
      expect(await seriousViolations(), "desk with conflicts and a notice").toEqual([]);

      for (const open of ["settings-open", "my-day-open", "shortcuts-open"]) {
        await userEvent.click(screen.getByTestId(open));
        const dialog = await screen.findByRole("dialog");
        await waitFor(() => expect(dialog).not.toHaveTextContent(/正在加载|Loading/));
        expect(await seriousViolations(), open).toEqual([]);
        await userEvent.keyboard("{Escape}");
        await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
      }

      await userEvent.click(screen.getByTestId("lock-now"));
      await screen.findByTestId("lock-screen");
      expect(await seriousViolations(), "lock screen").toEqual([]);
    }, 30_000);
  }
});
