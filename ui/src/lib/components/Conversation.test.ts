// The conversation area against the mock host: the customer panel, the
// wrap-up with its after-contact-work timer, the call screen of a phone
// call-back, guided call scripts, transfer, the knowledge panel's "insert
// into reply" and recently viewed list, which conversation is in front —
// and the bad paths next to each, plus no accessibility violations.
import { afterEach, describe, expect, it, vi } from "vitest";
import { tick } from "svelte";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import App from "../../App.svelte";
import ScriptRunner from "./ScriptRunner.svelte";
import { MOCK_AGENT, createMockHost, detailOf, type MockHost } from "../host/mock";
import { deskAnswers } from "../host/mock-data";
import { HostError, type RecentArticle, type Script } from "../host";
import { useLocale } from "../i18n/index.svelte";
import { myItem, openConversation, seriousViolations } from "../testing/render";
import { clock, fillKnown, formatYuan } from "../format";

/** The drafts the UI saves come back with the conversation, as the core keeps them. */
function keepDrafts(host: MockHost) {
  const drafts: Record<string, string> = {};
  host.answers.saveDraft = async (id, body) => void (drafts[id] = body);
  host.answers.conversation = async (id) => {
    const row = host.rows.find((r) => r.id === id);
    return row ? { ...detailOf(row), draft: drafts[id] ?? null } : null;
  };
}

/** The seconds of each call logged for `id`. */
const loggedCalls = (host: MockHost, id: string) =>
  host.calls
    .filter((c) => c.startsWith(`logCall:${id}:`))
    .map((c) => {
      const [, , start, end] = c.split(":");
      return Math.round((Number(end) - Number(start)) / 1000);
    });

const PHONE_CALL = myItem("p1", {
  channel: "phone",
  subject: "退款回访",
  customerName: "赵大伯",
  lastMessagePreview: "退款还没到账，麻烦回个电话",
});

async function noSeriousViolations(container: HTMLElement, where: string) {
  expect(
    (await seriousViolations(container)).map((v) => `${where} ${v}`),
    "every control needs a name and a valid role for screen readers",
  ).toEqual([]);
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  window.getSelection()?.removeAllRanges();
});

describe("formatters", () => {
  it("writes fen as yuan, seconds as mm:ss, and leaves unknown placeholders alone", () => {
    expect(formatYuan(1230)).toBe("¥12.30");
    expect(formatYuan(5)).toBe("¥0.05");
    expect(formatYuan(123456)).toBe("¥1,234.56");
    expect(clock(0)).toBe("00:00");
    expect(clock(187)).toBe("03:07");
    expect(clock(3725)).toBe("62:05");
    expect(fillKnown("我是{agent_name}，订单{order_no}", { agent_name: "王秀英" })).toBe(
      "我是王秀英，订单{order_no}",
    );
  });
});

describe("customer panel", () => {
  it("shows name, masked phone, city and orders with the amount in yuan", async () => {
    const placed = new Date(2024, 4, 3, 10, 0).getTime();
    await openConversation({
      customers: {
        c1: {
          city: "河南 周口",
          orders: [
            {
              order_no: "TB20240503001",
              item: "红心猕猴桃 3斤",
              amount_fen: 1230,
              status: "已发货",
              placed_at: placed,
            },
            {
              order_no: "TB20240420002",
              item: "土鸡蛋 60枚",
              amount_fen: 123456,
              status: "已签收",
              placed_at: placed - 86_400_000,
            },
          ],
        },
      },
    });
    const panel = screen.getByTestId("customer-panel");
    expect(within(panel).getByTestId("customer-name")).toHaveTextContent("李桂兰");
    expect(within(panel).getByTestId("customer-phone")).toHaveTextContent("138****1234");
    expect(within(panel).getByTestId("customer-city")).toHaveTextContent("河南 周口");
    const rows = within(panel).getAllByTestId("order-row");
    expect(rows).toHaveLength(2);
    const [first, second] = rows;
    expect(first).toHaveTextContent("订单号 TB20240503001");
    expect(first).toHaveTextContent("红心猕猴桃 3斤");
    expect(first).toHaveTextContent("已发货");
    expect(first).toHaveTextContent(`${new Date(placed).toLocaleDateString("zh-CN")} 下单`);
    expect(within(first!).getByTestId("order-amount")).toHaveTextContent("实付 ¥12.30");
    expect(within(second!).getByTestId("order-amount")).toHaveTextContent("¥1,234.56");
  });

  it("says plainly when there are no orders and no city", async () => {
    await openConversation({ customers: { c1: { city: null, orders: [] } } });
    const panel = screen.getByTestId("customer-panel");
    expect(panel).toHaveTextContent("这位客户还没有订单。");
    expect(within(panel).getByTestId("customer-city")).toHaveTextContent("未填写");
    expect(within(panel).queryByTestId("order-row")).not.toBeInTheDocument();
  });
});

describe("wrap-up", () => {
  it("times the after-contact work and sends its seconds with the disposition and note", async () => {
    const { host } = await openConversation();
    const wrapUp = vi.spyOn(host, "wrapUp");
    vi.useFakeTimers();

    fireEvent.click(screen.getByTestId("wrap-up-start"));
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.getByTestId("acw-timer")).toHaveTextContent("00:00");
    expect(screen.getByTestId("disposition"), "focus goes to the first choice").toHaveFocus();
    expect(screen.queryByTestId("composer-body"), "the composer gives way").toBeNull();

    await vi.advanceTimersByTimeAsync(42_000);
    expect(screen.getByTestId("acw-timer")).toHaveTextContent("00:42");
    fireEvent.change(screen.getByTestId("disposition"), { target: { value: "refund_issued" } });
    fireEvent.input(screen.getByTestId("wrap-up-note"), {
      target: { value: "  已原路退款，客户满意  " },
    });
    fireEvent.click(screen.getByTestId("wrap-up-submit"));
    await vi.advanceTimersByTimeAsync(0);

    expect(wrapUp).toHaveBeenCalledWith("c1", "refund_issued", "已原路退款，客户满意", 42);
    vi.useRealTimers();
    await waitFor(() => expect(screen.queryByTestId("conversation")).not.toBeInTheDocument());
    expect(screen.getByTestId("no-conversation")).toBeInTheDocument();
  });

  it("sends no note when none is written, and Cancel goes back to the conversation", async () => {
    const { host } = await openConversation();
    const wrapUp = vi.spyOn(host, "wrapUp");
    await userEvent.click(screen.getByTestId("wrap-up-start"));
    expect(screen.getByRole("timer")).toHaveTextContent("00:00");
    await userEvent.click(screen.getByTestId("wrap-up-cancel"));
    expect(wrapUp).not.toHaveBeenCalled();
    expect(screen.queryByTestId("acw-timer")).not.toBeInTheDocument();
    expect(screen.getByTestId("composer-body")).toBeInTheDocument();
    expect(screen.getByTestId("wrap-up-start"), "focus returns where it was").toHaveFocus();

    await userEvent.click(screen.getByTestId("wrap-up-start"));
    await userEvent.click(screen.getByTestId("wrap-up-submit"));
    await waitFor(() => expect(wrapUp).toHaveBeenCalledTimes(1));
    const [id, code, note, secs] = wrapUp.mock.calls[0]!;
    expect([id, code, note]).toEqual(["c1", "resolved", null]);
    expect(secs).toBeGreaterThanOrEqual(0);
  });

  it("keeps the wrap-up open and says why when it fails", async () => {
    const { host } = await openConversation();
    vi.spyOn(host, "wrapUp").mockRejectedValueOnce(
      new HostError("storage", "cannot write to the local store"),
    );
    await userEvent.click(screen.getByTestId("wrap-up-start"));
    await userEvent.click(screen.getByTestId("wrap-up-submit"));
    const wrapUp = screen.getByTestId("wrap-up");
    expect(await within(wrapUp).findByRole("alert")).toHaveTextContent("保存失败");
    expect(screen.getByTestId("conversation")).toBeInTheDocument();
    expect(screen.getByTestId("acw-timer")).toBeInTheDocument();
  });
});

describe("phone call-back", () => {
  it("shows the call screen with a call timer and says the agent dials; each call is logged to the platform", async () => {
    const { host } = await openConversation({ queue: [PHONE_CALL] }, "赵大伯");
    const call = screen.getByTestId("call");
    expect(call).toHaveTextContent("请用你自己的手机给客户打过去");
    expect(call, "no telephony that does not exist yet").not.toHaveTextContent("平台的电话线路");
    expect(screen.queryByTestId("call-timer")).not.toBeInTheDocument();
    vi.useFakeTimers();

    fireEvent.click(within(call).getByTestId("call-start"));
    await vi.advanceTimersByTimeAsync(65_000);
    expect(within(call).getByTestId("call-timer")).toHaveTextContent("01:05");
    fireEvent.click(within(call).getByTestId("call-end"));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(within(call).getByTestId("call-ended")).toHaveTextContent("通话已结束");
    expect(within(call).getByTestId("call-timer"), "the time stops at the end").toHaveTextContent(
      "01:05",
    );
    expect(loggedCalls(host, "p1"), "the call's times go to the platform").toEqual([65]);

    fireEvent.click(within(call).getByTestId("call-start"));
    await vi.advanceTimersByTimeAsync(3_000);
    fireEvent.click(screen.getByTestId("wrap-up-start"));
    await vi.advanceTimersByTimeAsync(0);
    expect(within(call).getByTestId("call-ended")).toHaveTextContent("00:03");
    expect(within(call).queryByTestId("call-end")).not.toBeInTheDocument();
    expect(loggedCalls(host, "p1"), "a call ended by wrapping up is logged too").toEqual([65, 3]);
  });

  it("says in English what the agent does on a call", async () => {
    await openConversation({ queue: [PHONE_CALL] }, "赵大伯", "en");
    expect(screen.getByTestId("call")).toHaveTextContent("Call the customer from your own phone");
  });

  it("shows the scripts by default, the suggested one first and marked", async () => {
    await openConversation({ queue: [PHONE_CALL] }, "赵大伯");
    const choices = await screen.findAllByTestId("script-choice");
    expect(choices.map((c) => c.textContent?.replace(/\s+/g, " ").trim())).toEqual([
      "退款进度回访 推荐",
      "物流延误回访",
    ]);
    expect(choices[1]).not.toHaveTextContent("推荐");
    expect(screen.queryByTestId("script-toggle"), "a call always has its script").toBeNull();
  });
});

describe("call scripts", () => {
  it("runs a script step by step; a checkpoint blocks moving on until confirmed", async () => {
    const { host } = await openConversation({ queue: [PHONE_CALL] }, "赵大伯");
    expect(host.calls).toContain("scripts:p1");
    await userEvent.click((await screen.findAllByTestId("script-choice"))[0]!);

    const step = () => screen.getByTestId("script-step");
    expect(step()).toHaveAttribute("data-step", "greet");
    expect(step()).toHaveTextContent("第 1 步");
    expect(step(), "placeholders are filled from the conversation").toHaveTextContent(
      "售后客服王秀英。请问是赵大伯吗？",
    );
    expect(screen.getByTestId("script-back")).toBeDisabled();
    await userEvent.click(screen.getByRole("button", { name: "是本人，方便" }));

    expect(step()).toHaveAttribute("data-step", "verify");
    expect(step(), "focus follows the script").toHaveFocus();
    const onward = screen.getByRole("button", { name: "核对一致" });
    expect(onward).toBeDisabled();
    expect(screen.getByTestId("script-blocked")).toHaveTextContent("勾选“已确认”后才能继续");
    expect(onward).toHaveAccessibleDescription(/勾选“已确认”后才能继续/);
    await userEvent.click(onward);
    expect(step(), "an unconfirmed checkpoint keeps the agent here").toHaveAttribute(
      "data-step",
      "verify",
    );

    await userEvent.click(screen.getByRole("checkbox", { name: "已确认" }));
    expect(screen.queryByTestId("script-blocked")).not.toBeInTheDocument();
    await userEvent.click(screen.getByTestId("script-branch"));
    expect(step()).toHaveAttribute("data-step", "status");
    expect(step()).toHaveTextContent("您的订单TB20240000p1退款");
    expect(screen.getByTestId("script-end")).toHaveTextContent("话术结束");
    expect(screen.queryByTestId("script-branch")).not.toBeInTheDocument();
    const path = screen.getByTestId("script-path");
    expect(
      within(path)
        .getAllByRole("listitem")
        .map((li) => li.textContent),
    ).toEqual(["是本人，方便", "核对一致"]);

    await userEvent.click(screen.getByTestId("script-back"));
    expect(step()).toHaveAttribute("data-step", "verify");
    expect(screen.getByTestId("script-checkpoint"), "a confirmation is remembered").toBeChecked();
    await userEvent.click(screen.getByTestId("script-restart"));
    expect(step()).toHaveAttribute("data-step", "greet");
    expect(screen.queryByTestId("script-path")).not.toBeInTheDocument();

    await userEvent.click(screen.getByTestId("script-other"));
    expect(await screen.findAllByTestId("script-choice")).toHaveLength(2);
  });

  it("opens from any conversation on request", async () => {
    const { host } = await openConversation();
    expect(screen.queryByTestId("scripts")).not.toBeInTheDocument();
    expect(host.calls.some((c) => c.startsWith("scripts:"))).toBe(false);
    const toggle = screen.getByRole("button", { name: "打开话术" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    await userEvent.click(toggle);
    expect(await screen.findAllByTestId("script-choice")).toHaveLength(2);
    expect(screen.getByRole("heading", { name: "通话话术" })).toHaveFocus();
    await userEvent.click(screen.getByRole("button", { name: "收起话术" }));
    expect(screen.queryByTestId("scripts")).not.toBeInTheDocument();
  });

  it("says so when a script leads to a step it does not have", () => {
    useLocale("zh-CN");
    const broken: Script = {
      id: "s-broken",
      locale: "zh-CN",
      title: "坏掉的话术",
      category: "x",
      keywords: [],
      start: "a",
      steps: [
        { id: "a", text: "第一句", checkpoint: false, branches: [{ label: "下一步", next: "zz" }] },
      ],
    };
    render(ScriptRunner, { props: { script: broken } });
    fireEvent.click(screen.getByRole("button", { name: "下一步" }));
    return waitFor(() =>
      expect(screen.getByRole("alert")).toHaveTextContent("这份话术缺了一步（zz）"),
    );
  });
});

describe("transfer", () => {
  it("lists queues and colleagues (not me) with presence, and transfers to a colleague", async () => {
    const { host } = await openConversation();
    await userEvent.click(screen.getByTestId("transfer-open"));
    const transfer = screen.getByTestId("transfer");
    const agents = await within(transfer).findAllByTestId("transfer-agent");
    expect(agents).toHaveLength(2);
    expect(within(transfer).queryByText(/a1001/), "I am not offered to myself").toBeNull();
    expect(screen.getByRole("radio", { name: "张伟（工号 a1003）· 小休" })).toBeInTheDocument();
    expect(within(transfer).getAllByTestId("transfer-queue")).toHaveLength(2);
    expect(screen.getByTestId("transfer-submit"), "nothing chosen yet").toBeDisabled();

    await userEvent.click(screen.getByRole("radio", { name: "李春梅（工号 a1002）· 空闲可接待" }));
    await userEvent.click(screen.getByTestId("transfer-submit"));
    await waitFor(() => expect(host.calls).toContain('transfer:c1:{"agent":"a1002"}'));
    await waitFor(() => expect(screen.queryByTestId("conversation")).not.toBeInTheDocument());
    expect(host.calls).toContain("setFocusedConversation:none");
  });

  it("transfers to a queue, where it waits to be claimed", async () => {
    const { host } = await openConversation();
    host.answers.transfer = async (id) => host.update(id, { assignedTo: null, status: "queued" });
    await userEvent.click(screen.getByTestId("transfer-open"));
    await userEvent.click(await screen.findByRole("radio", { name: "售前咨询" }));
    await userEvent.click(screen.getByTestId("transfer-submit"));
    await waitFor(() => expect(host.calls).toContain('transfer:c1:{"queue":"presales"}'));
    expect(await screen.findByRole("button", { name: "领取李桂兰的会话" })).toBeInTheDocument();
  });

  it("keeps the conversation and says why when the transfer fails; Cancel closes the form", async () => {
    const { host } = await openConversation();
    vi.spyOn(host, "transfer").mockRejectedValueOnce(
      new HostError("unreachable", "connection refused"),
    );
    await userEvent.click(screen.getByTestId("transfer-open"));
    await userEvent.click(await screen.findByRole("radio", { name: "售后服务" }));
    await userEvent.click(screen.getByTestId("transfer-submit"));
    const transfer = screen.getByTestId("transfer");
    expect(await within(transfer).findByRole("alert")).toHaveTextContent("连不上平台");
    expect(screen.getByTestId("conversation")).toBeInTheDocument();
    expect(host.calls).not.toContain("setFocusedConversation:none");

    await userEvent.click(screen.getByTestId("transfer-cancel"));
    expect(screen.queryByTestId("transfer")).not.toBeInTheDocument();
    expect(screen.getByTestId("transfer-open")).toHaveFocus();
  });

  it("says why when the targets cannot be read", async () => {
    const { host } = await openConversation();
    vi.spyOn(host, "transferTargets").mockRejectedValueOnce(new HostError("storage", "disk"));
    await userEvent.click(screen.getByTestId("transfer-open"));
    expect(await within(screen.getByTestId("transfer")).findByRole("alert")).toHaveTextContent(
      "保存失败",
    );
    expect(screen.getByTestId("transfer-submit")).toBeDisabled();
  });
});

describe("knowledge panel beside the conversation", () => {
  async function openArticle() {
    const search = await screen.findByLabelText("搜索知识库");
    await userEvent.type(search, "退款");
    const [hit] = await screen.findAllByTestId("knowledge-hit");
    await userEvent.click(within(hit!).getByRole("button", { name: "生鲜坏果怎么退款" }));
    return screen.findByTestId("knowledge-article");
  }

  it("inserts the first paragraph as plain text at the end of the reply and keeps the draft", async () => {
    const { host } = await openConversation();
    keepDrafts(host);
    const composer = screen.getByTestId("composer-body");
    await userEvent.type(composer, "亲，");
    await openArticle();
    const saves = () => host.calls.filter((c) => c.startsWith("saveDraft:c1:")).length;
    await waitFor(() => expect(saves(), "the typed text was kept").toBe(1), { timeout: 2000 });
    await userEvent.click(screen.getByTestId("kb-insert"));
    expect(composer).toHaveValue("亲，\n请客户在签收后 48 小时内拍照反馈。");
    expect(composer, "the agent goes on typing in the reply").toHaveFocus();
    await waitFor(() => expect(saves(), "the insertion is kept like typing").toBe(2), {
      timeout: 2000,
    });
    // The draft holds what was inserted: reopening the conversation shows it.
    await userEvent.click(screen.getByTestId("conversation-close"));
    await userEvent.click(screen.getByRole("button", { name: "打开李桂兰的会话" }));
    await waitFor(() =>
      expect(screen.getByTestId("composer-body")).toHaveValue(
        "亲，\n请客户在签收后 48 小时内拍照反馈。",
      ),
    );
  });

  it("inserts only the text the agent selected in the article", async () => {
    await openConversation();
    const article = await openArticle();
    const strong = article.querySelector("strong");
    if (!strong) throw new Error("the article has a bold part");
    const range = document.createRange();
    range.selectNodeContents(strong);
    window.getSelection()?.removeAllRanges();
    window.getSelection()?.addRange(range);
    // The selection is read as the button is pressed, before focus moves to it.
    await userEvent.click(screen.getByTestId("kb-insert"));
    expect(screen.getByTestId("composer-body")).toHaveValue("48 小时内");
  });

  it("cannot insert without an open conversation, and says why", async () => {
    useLocale("zh-CN");
    const host = createMockHost({ signedIn: MOCK_AGENT, answers: deskAnswers() });
    render(App, { props: { host } });
    await openArticle();
    const insert = screen.getByTestId("kb-insert");
    expect(insert).toBeDisabled();
    expect(insert).toHaveAccessibleDescription("先打开一个会话，才能把文章内容插入回复。");
    expect(host.calls.some((c) => c.startsWith("saveDraft:"))).toBe(false);
  });

  it("lists recently viewed articles while the search box is empty", async () => {
    useLocale("zh-CN");
    const answers = deskAnswers();
    const opened: RecentArticle[] = [];
    const host = createMockHost({
      signedIn: MOCK_AGENT,
      answers: {
        ...answers,
        article: async (id) => {
          const found = await answers.article!(id);
          // Most recent first, each article once.
          const rest = opened.filter((r) => r.id !== id);
          if (found)
            opened.splice(0, opened.length, { id, title: found.title, openedAt: 0 }, ...rest);
          return found;
        },
        recentArticles: async (limit) => opened.slice(0, limit),
      },
    });
    render(App, { props: { host } });
    const recent = await screen.findByTestId("kb-recent");
    expect(recent).toHaveTextContent("还没有看过文章。");
    await openArticle();
    await userEvent.click(screen.getByRole("button", { name: "收起文章" }));
    await userEvent.clear(screen.getByLabelText("搜索知识库"));
    const items = await within(await screen.findByTestId("kb-recent")).findAllByTestId(
      "kb-recent-item",
    );
    expect(items.map((b) => b.textContent)).toEqual(["生鲜坏果怎么退款"]);
    expect(host.calls).toContain("recentArticles:5");
    await userEvent.click(items[0]!);
    expect(await screen.findByTestId("knowledge-article")).toHaveTextContent("48 小时内");

    await userEvent.type(screen.getByLabelText("搜索知识库"), "物流");
    await waitFor(() => expect(screen.queryByTestId("kb-recent")).not.toBeInTheDocument());
  });
});

describe("draft", () => {
  it("keeps what was typed even when the conversation is closed at once", async () => {
    const { host } = await openConversation();
    keepDrafts(host);
    await userEvent.type(screen.getByTestId("composer-body"), "马上帮您查");
    await userEvent.click(screen.getByTestId("conversation-close"));
    expect(host.calls, "saved as the view closes, not 400 ms later").toContain(
      "saveDraft:c1:马上帮您查",
    );
    await userEvent.click(screen.getByRole("button", { name: "打开李桂兰的会话" }));
    await waitFor(() => expect(screen.getByTestId("composer-body")).toHaveValue("马上帮您查"));
  });
});

describe("a refused reply in an open conversation", () => {
  // The core folds a refused reply back into the stored draft, ahead of what
  // was saved, and announces a change; the test writes the stored draft
  // (`keepDrafts`) and sends the change, as the core would.
  it("comes back into the composer without reopening the conversation", async () => {
    const { host } = await openConversation();
    keepDrafts(host);
    await host.saveDraft("c1", "您好，退款已经给您办好了");
    host.send({ type: "changed" });
    await waitFor(() =>
      expect(
        screen.getByTestId("composer-body"),
        "the agent sees the refused text at once, ready to send again",
      ).toHaveValue("您好，退款已经给您办好了"),
    );
  });

  it("goes ahead of what the agent typed since, and both are kept", async () => {
    const { host } = await openConversation();
    keepDrafts(host);
    await userEvent.type(screen.getByTestId("composer-body"), "还有别的问题吗");
    await waitFor(() => expect(host.calls).toContain("saveDraft:c1:还有别的问题吗"));
    await host.saveDraft("c1", "您好，退款已经给您办好了\n\n还有别的问题吗");
    host.send({ type: "changed" });
    await waitFor(() =>
      expect(screen.getByTestId("composer-body")).toHaveValue(
        "您好，退款已经给您办好了\n\n还有别的问题吗",
      ),
    );
  });

  it("does not bring back a reply that was just sent", async () => {
    const { host } = await openConversation();
    keepDrafts(host);
    await userEvent.type(screen.getByTestId("composer-body"), "马上帮您查");
    await userEvent.click(screen.getByTestId("composer-send"));
    await waitFor(() => expect(screen.getByTestId("composer-body")).toHaveValue(""));
    const reloads = () => host.calls.filter((c) => c === "conversation:c1").length;
    const before = reloads();
    host.send({ type: "changed" });
    await waitFor(() => expect(reloads()).toBeGreaterThan(before));
    await tick();
    expect(screen.getByTestId("composer-body")).toHaveValue("");
  });
});

describe("conversation in front", () => {
  it("tells the host which conversation is open, and when none is", async () => {
    const { host } = await openConversation();
    await waitFor(() => expect(host.calls).toContain("setFocusedConversation:c1"));
    expect(host.calls).not.toContain("setFocusedConversation:none");
    await userEvent.click(screen.getByTestId("conversation-close"));
    await waitFor(() => expect(host.calls).toContain("setFocusedConversation:none"));
    expect(
      host.calls.filter((c) => c.startsWith("setFocusedConversation:")),
      "one report per change",
    ).toEqual(["setFocusedConversation:c1", "setFocusedConversation:none"]);
  });
});

describe("accessibility", () => {
  it("has no serious axe-core violations in the conversation area, in both languages", async () => {
    for (const language of ["zh-CN", "en"] as const) {
      const customer = "赵大伯";
      const { container, unmount } = await openConversation(
        { queue: [PHONE_CALL] },
        customer,
        language,
      );
      await userEvent.click((await screen.findAllByTestId("script-choice"))[0]!);
      await userEvent.click(screen.getAllByTestId("script-branch")[0]!);
      await userEvent.click(screen.getByTestId("call-start"));
      await userEvent.type(screen.getByRole("searchbox"), "退款");
      const [hit] = await screen.findAllByTestId("knowledge-hit");
      await userEvent.click(within(hit!).getByRole("button"));
      await screen.findByTestId("knowledge-article");
      await noSeriousViolations(container, `${language} call + script + article:`);

      await userEvent.click(screen.getByTestId("transfer-open"));
      await screen.findAllByTestId("transfer-agent");
      await noSeriousViolations(container, `${language} transfer:`);

      await userEvent.click(screen.getByTestId("transfer-cancel"));
      await userEvent.click(screen.getByTestId("wrap-up-start"));
      await noSeriousViolations(container, `${language} wrap-up:`);
      unmount();
    }
  }, 30_000);
});
