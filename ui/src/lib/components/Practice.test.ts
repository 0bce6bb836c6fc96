// Practice mode against the mock host: starting without signing in, the
// practice band and frame on every screen, a simulated customer reacting to
// replies, the score report after the wrap-up, the history, an exam that
// keeps its reports until the end, marks for articles and script steps only
// in practice, a refused scenario, the way back, and no serious
// accessibility violations in either language.
import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import App from "../../App.svelte";
import { MOCK_AGENT, createMockHost, type MockHostOptions } from "../host/mock";
import type { Locale, QueueItem } from "../host";
import { useLocale } from "../i18n/index.svelte";

function liveItem(id: string, overrides: Partial<QueueItem> = {}): QueueItem {
  const now = Date.now();
  return {
    id,
    channel: "chat",
    queue: "aftersales",
    subject: "退款",
    customerName: "李桂兰",
    status: "active",
    assignedTo: MOCK_AGENT.code,
    priority: "normal",
    createdAt: now - 3 * 60000,
    lastMessageAt: now - 60000,
    lastMessagePreview: "桃子收到就坏了，怎么办？",
    firstResponseDue: now + 20 * 60000,
    firstResponseAt: null,
    resolveDue: now + 3600000,
    pendingActions: 0,
    ...overrides,
  };
}

function renderApp(options: MockHostOptions = {}, language: Locale = "zh-CN") {
  useLocale(language);
  const host = createMockHost({ info: { locale: language }, ...options });
  return { host, ...render(App, { props: { host } }) };
}

/** Serious and critical axe findings (colour contrast cannot be computed in jsdom). */
async function seriousViolations(container: HTMLElement = document.body) {
  const results = await axe.run(container, { rules: { "color-contrast": { enabled: false } } });
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

const band = () => screen.getByTestId("practice-band");

afterEach(() => {
  vi.useRealTimers();
});

/** From the sign-in screen: the picker, then one scenario by its title. */
async function practiseWithoutSigningIn(title: string, start = "开始练习") {
  await userEvent.click(await screen.findByRole("button", { name: "不登录，直接练习" }));
  const picker = await screen.findByRole("dialog", { name: "练习模式：选一个练习" });
  await userEvent.click(await within(picker).findByRole("button", { name: `${start}：${title}` }));
  await screen.findByTestId("practice-band");
  await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
}

/** Claims and opens a practice customer from the queue. */
async function takeCustomer(customer: string) {
  await userEvent.click(await screen.findByRole("button", { name: `领取${customer}的会话` }));
  await userEvent.click(await screen.findByRole("button", { name: `打开${customer}的会话` }));
  return screen.findByTestId("conversation");
}

async function send(text: string) {
  const composer = await screen.findByTestId("composer-body");
  await userEvent.clear(composer);
  await userEvent.type(composer, text);
  await userEvent.click(screen.getByTestId("composer-send"));
}

async function wrapUp(disposition: string) {
  await userEvent.click(await screen.findByTestId("wrap-up-start"));
  await userEvent.selectOptions(screen.getByTestId("disposition"), disposition);
  await userEvent.click(screen.getByTestId("wrap-up-submit"));
  await waitFor(() => expect(screen.queryByTestId("conversation")).not.toBeInTheDocument());
}

describe("practice without signing in", () => {
  it("starts a scenario from the sign-in screen, frames every screen, scores the contact and keeps the history", async () => {
    const { host } = renderApp();
    await practiseWithoutSigningIn("我的快递到哪了");

    // The queue screen: band, frame, the practice identity, one simulated customer.
    expect(band()).toHaveTextContent("练习模式");
    await waitFor(() => expect(band()).toHaveTextContent("练习：我的快递到哪了"));
    expect(within(band()).getByRole("button", { name: "结束练习" })).toBeInTheDocument();
    expect(document.querySelector(".practice-frame")).toBeInTheDocument();
    expect(screen.getByTestId("signed-in-as")).toHaveTextContent("练习学员");
    expect(await host.signedIn()).toMatchObject({ code: "trainee", practice: true });
    expect(screen.queryByTestId("sign-out"), "practice ends with its own button").toBeNull();
    expect(screen.queryByTestId("practice-open")).toBeNull();
    expect(
      screen.getByTestId("connection-state"),
      "not 'online': no platform here",
    ).toHaveTextContent("练习中（模拟客户，不联网）");
    const rows = await screen.findAllByTestId("queue-row");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toHaveTextContent("在吗 我买的卫衣怎么还没到啊");

    // The conversation screen: still framed, and the customer reacts to each reply.
    const conversation = await takeCustomer("林晓萌");
    expect(band()).toBeInTheDocument();
    expect(within(conversation).getByTestId("conversation-channel")).toHaveTextContent("在线咨询");
    await send("您好，我帮您查一下物流");
    await waitFor(() =>
      expect(within(conversation).getByTestId("thread")).toHaveTextContent("好 你快点哈"),
    );
    await send("包裹现在停在武汉转运中心，我已经帮您联系快递催件了");
    await waitFor(() =>
      expect(within(conversation).getByTestId("thread")).toHaveTextContent("不会丢了吧"),
    );
    await wrapUp("resolved");

    // The score report: met and missed items with reasons, times, replay.
    const report = await screen.findByRole("dialog", { name: "评分：我的快递到哪了" });
    expect(report).toHaveAttribute("data-testid", "score-report");
    expect(within(report).getByTestId("score-percent")).toHaveTextContent("85 分");
    expect(within(report).getByTestId("score-verdict")).toHaveTextContent("及格");
    expect(report).toHaveTextContent("及格线 70 分");
    const items = within(report).getAllByTestId("score-item");
    expect(items).toHaveLength(7);
    const item = (id: string) => items.find((i) => i.dataset.item === id)!;
    expect(item("greeting")).toHaveAttribute("data-met", "true");
    expect(item("greeting")).toHaveTextContent("做到了");
    expect(item("greeting")).toHaveTextContent("0:0");
    expect(item("urged_courier")).toHaveTextContent("说到了“催件”");
    expect(item("disposition")).toHaveAttribute("data-met", "false");
    expect(item("disposition")).toHaveTextContent("没做到");
    expect(item("disposition")).toHaveTextContent("结束时选择了 resolved，应该是 info_given");
    expect(within(report).getAllByTestId("score-time")).toHaveLength(2);
    expect(within(report).getByTestId("score-escalated")).toHaveTextContent("客户没有升级投诉");
    expect(within(report).getByTestId("score-disposition")).toHaveTextContent("你选的：问题已解决");
    expect(within(report).getByTestId("score-disposition")).toHaveTextContent("应该选：已答复咨询");
    await waitFor(() =>
      expect(within(report).getByTestId("score-article")).toHaveTextContent("物流好几天不更新"),
    );
    const replay = within(report).getByTestId("score-replay");
    const lines = within(replay).getAllByRole("listitem");
    expect(lines.map((l) => l.dataset.kind)).toEqual([
      "customer",
      "reply",
      "customer",
      "reply",
      "customer",
      "wrap_up",
    ]);
    expect(lines[0]).toHaveTextContent(/^0:00\s*客户\s*在吗/);
    expect(lines[5]).toHaveTextContent("问题已解决");

    await userEvent.click(within(report).getByTestId("score-report-done"));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(band()).toHaveTextContent("练习：我的快递到哪了");

    // The history keeps it.
    await userEvent.click(within(band()).getByRole("button", { name: "练习记录" }));
    const history = await screen.findByRole("dialog", { name: "练习记录" });
    expect(history).toHaveAttribute("data-testid", "practice-history");
    const row = await within(history).findByTestId("history-row");
    expect(row).toHaveTextContent("我的快递到哪了");
    expect(row).toHaveTextContent("85 分");
    expect(row).toHaveTextContent("及格");
    expect(row).toHaveTextContent("练习");
    expect(within(history).getAllByTestId("history-bar")).toHaveLength(1);
    await userEvent.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());

    // Ending practice goes back to the sign-in screen.
    await userEvent.click(within(band()).getByRole("button", { name: "结束练习" }));
    expect(await screen.findByRole("heading", { name: "登录工作台" })).toBeInTheDocument();
    expect(screen.queryByTestId("practice-band")).toBeNull();
    expect(document.querySelector(".practice-frame")).toBeNull();
    expect(await host.signedIn()).toBeNull();
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "不登录，直接练习" })).toHaveFocus(),
    );
  });

  it("says plainly when a scenario cannot be started, and stays on the sign-in screen", async () => {
    const { host } = renderApp({
      unplayableScenarios: [
        {
          id: "sc-zh-removed",
          title: "已经删掉的场景",
          level: "easy",
          channel: "chat",
          summary: "场景文件在列表读出来以后被删掉了。",
          locale: "zh-CN",
        },
      ],
    });
    await userEvent.click(await screen.findByRole("button", { name: "不登录，直接练习" }));
    const picker = await screen.findByRole("dialog", { name: "练习模式：选一个练习" });
    await userEvent.click(
      await within(picker).findByRole("button", { name: "开始练习：已经删掉的场景" }),
    );
    expect(await within(picker).findByRole("alert")).toHaveTextContent("这个练习没能开始");
    expect(screen.queryByTestId("practice-band")).toBeNull();
    expect(await host.signedIn()).toBeNull();

    await expect(host.startPractice({ scenario: "sc-zh-nope" })).rejects.toMatchObject({
      code: "invalid_input",
    });
    await expect(host.startPractice({ pack: "pack-nope" })).rejects.toMatchObject({
      code: "invalid_input",
    });
  });

  it("groups scenarios by level with channel and summary, and lists shifts and exams apart", async () => {
    renderApp();
    await userEvent.click(await screen.findByRole("button", { name: "不登录，直接练习" }));
    const picker = await screen.findByRole("dialog", { name: "练习模式：选一个练习" });
    expect(await within(picker).findByRole("heading", { name: "简单（3 个）" })).toBeVisible();
    expect(within(picker).getByRole("heading", { name: "较难（1 个）" })).toBeVisible();
    const phone = within(picker)
      .getAllByTestId("practice-scenario")
      .find((s) => s.dataset.scenario === "sc-zh-refund-not-received")!;
    expect(phone).toHaveTextContent("中等");
    expect(phone).toHaveTextContent("电话回拨");
    expect(phone).toHaveTextContent("按退款回访话术核对身份");
    const packs = within(picker).getAllByTestId("practice-pack");
    const exam = packs.find((p) => p.dataset.pack === "pack-zh-exam-1")!;
    expect(exam).toHaveTextContent("考试");
    expect(exam).toHaveTextContent("及格线 80 分");
    expect(exam).toHaveTextContent("没有提示");
    expect(exam, "an exam does not say which customers come").not.toHaveTextContent("发票");
    const shift = packs.find((p) => p.dataset.pack === "pack-zh-shift-1")!;
    expect(shift).toHaveTextContent("练习班次");
  });
});

describe("the practice identity", () => {
  it("is called a trainee in the interface language, even after switching it", async () => {
    renderApp();
    await practiseWithoutSigningIn("我的快递到哪了");
    await waitFor(() => expect(screen.getByTestId("signed-in-as")).toHaveTextContent("练习学员"));
    await userEvent.click(screen.getByRole("button", { name: "English" }));
    await waitFor(() => expect(screen.getByTestId("signed-in-as")).toHaveTextContent("Trainee"));
    expect(screen.getByTestId("signed-in-as")).not.toHaveTextContent("练习学员");
  });
});

describe("an impatient customer", () => {
  it("nudges and escalates when left waiting, and the report marks the late reply and the escalation", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date(2026, 11, 1, 9, 0, 0));
    renderApp();
    await practiseWithoutSigningIn("直播间买的水蜜桃烂了，客户很生气");
    const conversation = await takeCustomer("郑雅琴");
    // Two minutes and ten seconds without a word from the trainee.
    vi.setSystemTime(new Date(2026, 11, 1, 9, 2, 10));
    await send("非常抱歉，给您添麻烦了");
    const thread = within(conversation).getByTestId("thread");
    await waitFor(() => expect(thread).toHaveTextContent("装死是吧"));
    expect(thread).toHaveTextContent("我现在就打12315投诉你们");
    await wrapUp("refund_issued");

    const report = await screen.findByTestId("score-report");
    const times = within(report).getAllByTestId("score-time");
    expect(times[0]).toHaveAttribute("data-on-time", "false");
    expect(times[0]).toHaveClass("late");
    expect(times[0]).toHaveTextContent("130 秒");
    expect(times[0]).toHaveTextContent("超时");
    expect(within(report).getByTestId("score-escalated")).toHaveTextContent("升级投诉了");
    const item = (id: string) =>
      within(report)
        .getAllByTestId("score-item")
        .find((i) => i.dataset.item === id)!;
    expect(item("no_escalation")).toHaveTextContent(
      "客户等了 120 秒没有得到回复，在 2:00 升级投诉",
    );
    expect(item("in_time")).toHaveTextContent(
      "2:10 的回复晚了：客户等了 130 秒，目标 40 秒，超出 90 秒",
    );
    const kinds = within(within(report).getByTestId("score-replay"))
      .getAllByRole("listitem")
      .map((l) => l.dataset.kind);
    expect(kinds.slice(0, 4)).toEqual(["customer", "nudge", "escalation", "reply"]);
    expect(within(report).getByTestId("score-replay")).toHaveTextContent("0:50");
  });
});

describe("exam", () => {
  it("keeps each customer's report until the end, then shows the result against the pass mark; ending returns to the live desk", async () => {
    const { host } = renderApp({
      signedIn: MOCK_AGENT,
      queue: [liveItem("live-1", { customerName: "王大妈" })],
    });
    await screen.findByRole("button", { name: "打开王大妈的会话" });
    await userEvent.click(screen.getByRole("button", { name: "练习" }));
    const picker = await screen.findByRole("dialog", { name: "练习模式：选一个练习" });
    await userEvent.click(
      await within(picker).findByRole("button", { name: "开始考试：上岗考核一：售后综合" }),
    );
    await screen.findByTestId("practice-band");
    await waitFor(() => expect(band()).toHaveTextContent("考试：上岗考核一：售后综合"));
    expect(band()).toHaveTextContent("已完成 0 / 3 位客户");
    expect(band()).toHaveTextContent("考试中没有提示");
    expect(screen.queryByTestId("practice-score"), "no score during an exam").toBeNull();
    expect(screen.getByTestId("signed-in-as")).toHaveTextContent("王秀英");
    await waitFor(() => expect(screen.getAllByTestId("queue-row")).toHaveLength(3));
    expect(screen.queryByRole("button", { name: "打开王大妈的会话" })).toBeNull();

    const customers = [
      ["何静", "您好，抬头是宜宾市青禾文化传媒有限公司，我核对一下", "resolved"],
      ["陈建国", "您好，我是山禾优选的客服，退款是原路退回您的建行储蓄卡", "resolved"],
      ["郑雅琴", "非常抱歉！麻烦您拍一张照片给我看看", "refund_issued"],
    ] as const;
    for (const [index, [customer, reply, disposition]] of customers.entries()) {
      await takeCustomer(customer);
      if (customer === "陈建国") {
        // A phone call-back lists the call scripts, but an exam gives no hints.
        const choices = await screen.findAllByTestId("script-choice");
        expect(choices.length).toBeGreaterThan(1);
        for (const choice of choices) {
          expect(choice).toHaveAttribute("data-suggested", "false");
          expect(choice).not.toHaveTextContent("推荐");
        }
      }
      await send(reply);
      await wrapUp(disposition);
      if (index < customers.length - 1) {
        await waitFor(() => expect(band()).toHaveTextContent(`已完成 ${index + 1} / 3 位客户`));
        expect(screen.queryByTestId("score-report"), "no report before the end").toBeNull();
        expect(screen.queryByRole("dialog")).toBeNull();
      }
    }
    await waitFor(() =>
      expect(host.calls, "each finished contact is read, so the history keeps it").toContain(
        "practiceReport:conv-sc-zh-invoice-company",
      ),
    );

    const result = await screen.findByRole("dialog", { name: "考试成绩：上岗考核一：售后综合" });
    expect(result).toHaveAttribute("data-testid", "practice-result");
    expect(within(result).getByTestId("practice-result-verdict")).toHaveTextContent("不及格");
    expect(result).toHaveTextContent("及格线 80 分");
    expect(within(result).getAllByTestId("practice-result-contact")).toHaveLength(3);
    expect(await seriousViolations(), "exam result").toEqual([]);
    await userEvent.click(
      within(result).getByRole("button", { name: "查看评分：直播间买的水蜜桃烂了，客户很生气" }),
    );
    const report = await screen.findByTestId("score-report");
    expect(within(report).getAllByTestId("score-item").length).toBeGreaterThan(0);
    await userEvent.click(within(report).getByTestId("score-report-done"));
    expect(
      await screen.findByRole("dialog", { name: "考试成绩：上岗考核一：售后综合" }),
      "back to the result",
    ).toBeInTheDocument();
    await userEvent.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());

    const history = await host.practiceHistory();
    expect(history).toHaveLength(3);
    expect(history.every((r) => r.exam && r.packId === "pack-zh-exam-1")).toBe(true);

    await userEvent.click(within(band()).getByRole("button", { name: "结束练习" }));
    await waitFor(() => expect(screen.queryByTestId("practice-band")).toBeNull());
    expect(await screen.findByRole("button", { name: "打开王大妈的会话" })).toBeInTheDocument();
    expect(screen.getByTestId("signed-in-as")).toHaveTextContent("a1001");
    expect(screen.getByTestId("sign-out")).toBeInTheDocument();
    expect(await host.signedIn()).toMatchObject({ code: "a1001", practice: false });
  });
});

describe("practice marks", () => {
  it("tells the practice customer about script steps reached and articles opened or inserted", async () => {
    const { host } = renderApp();
    await practiseWithoutSigningIn("退款显示成功了，钱没到（电话回访）");
    const conversation = await takeCustomer("陈建国");
    await userEvent.click(
      await within(conversation).findByRole("button", { name: /退款进度回访/ }),
    );
    await waitFor(() =>
      expect(host.calls).toContain(
        "practiceMark:conv-sc-zh-refund-not-received:script_step=script-zh-refund-callback#greet",
      ),
    );
    await userEvent.click(within(conversation).getByRole("button", { name: "是本人，方便" }));
    await waitFor(() =>
      expect(host.calls).toContain(
        "practiceMark:conv-sc-zh-refund-not-received:script_step=script-zh-refund-callback#verify",
      ),
    );
    await waitFor(() =>
      expect(within(conversation).getByTestId("thread")).toHaveTextContent("手机尾号0517"),
    );

    await userEvent.type(screen.getByTestId("knowledge-search"), "坏果");
    await userEvent.click(await screen.findByRole("button", { name: "生鲜水果坏果包赔" }));
    await waitFor(() =>
      expect(host.calls).toContain(
        "practiceMark:conv-sc-zh-refund-not-received:article=kb-zh-farm-rotten-fruit",
      ),
    );
    const marks = () => host.calls.filter((c) => c.endsWith("article=kb-zh-farm-rotten-fruit"));
    await userEvent.click(screen.getByTestId("kb-insert"));
    await waitFor(() => expect(marks(), "inserting counts too").toHaveLength(2));
  });

  it("never marks anything on the live desk", async () => {
    const { host } = renderApp({
      signedIn: MOCK_AGENT,
      queue: [liveItem("c1", { channel: "phone", customerName: "李桂兰" })],
    });
    await userEvent.click(await screen.findByRole("button", { name: "打开李桂兰的会话" }));
    const conversation = await screen.findByTestId("conversation");
    await userEvent.click(
      await within(conversation).findByRole("button", { name: /退款进度回访/ }),
    );
    await userEvent.click(within(conversation).getByRole("button", { name: "是本人，方便" }));
    await userEvent.type(screen.getByTestId("knowledge-search"), "坏果");
    await userEvent.click(await screen.findByRole("button", { name: "生鲜水果坏果包赔" }));
    await screen.findByTestId("knowledge-article");
    await userEvent.click(screen.getByTestId("kb-insert"));
    await waitFor(() =>
      expect((screen.getByTestId("composer-body") as HTMLTextAreaElement).value).toContain(
        "坏果包赔",
      ),
    );
    expect(host.calls.filter((c) => c.startsWith("practiceMark"))).toEqual([]);
  });
});

describe("practice shift", () => {
  it("shows each customer's report as soon as they are wrapped up, with progress and the score so far", async () => {
    renderApp({}, "en");
    await userEvent.click(
      await screen.findByRole("button", { name: "Practise without signing in" }),
    );
    const picker = await screen.findByRole("dialog", { name: "Practice: choose what to practise" });
    await userEvent.click(
      await within(picker).findByRole("button", {
        name: "Start practice: Practice shift 1: English-speaking buyers",
      }),
    );
    await screen.findByTestId("practice-band");
    await waitFor(() => expect(band()).toHaveTextContent("0 of 2 customers done"));
    expect(band()).toHaveTextContent("Practice");
    expect(screen.getByTestId("signed-in-as")).toHaveTextContent("Trainee");

    await userEvent.click(
      await screen.findByRole("button", { name: "Claim the conversation with Emma Clarke" }),
    );
    await userEvent.click(
      await screen.findByRole("button", { name: "Open the conversation with Emma Clarke" }),
    );
    await send("Hi there! Let me check that for you.");
    await wrapUp("info_given");
    const report = await screen.findByRole("dialog", {
      name: "Score: Tracking number shows nothing",
    });
    expect(within(report).getByTestId("score-verdict")).toHaveTextContent("Not passed");
    const missed = within(report)
      .getAllByTestId("score-item")
      .find((i) => i.dataset.item === "found_cause")!;
    expect(missed).toHaveTextContent("Missed");
    expect(missed).toHaveTextContent("No reply said anything like");
    await userEvent.click(within(report).getByTestId("score-report-done"));
    await waitFor(() => expect(band()).toHaveTextContent("1 of 2 customers done"));
    expect(screen.getByTestId("practice-score")).toHaveTextContent("Score so far:");
  });
});

describe("practice history", () => {
  it("lists results newest first, marks exams, and shows the last ten scores oldest first", async () => {
    const day = 86_400_000;
    const start = new Date(2026, 10, 1, 10).getTime();
    const practiceHistory = Array.from({ length: 12 }, (_, i) => ({
      id: `r${i}`,
      scenarioId: "sc-zh-where-parcel",
      title: i === 11 ? "上岗考核一" : `练习 ${i}`,
      packId: i === 11 ? "pack-zh-exam-1" : null,
      exam: i === 11,
      percent: 40 + i * 5,
      passed: 40 + i * 5 >= 70,
      finishedAt: start + i * day,
    })).reverse();
    renderApp({ practiceHistory });
    await userEvent.click(await screen.findByRole("button", { name: "不登录，直接练习" }));
    await userEvent.click(await screen.findByTestId("practice-history-open"));
    const history = await screen.findByRole("dialog", { name: "练习记录" });
    const rows = await within(history).findAllByTestId("history-row");
    expect(rows).toHaveLength(12);
    expect(rows[0]).toHaveTextContent("上岗考核一");
    expect(rows[0]).toHaveTextContent("考试");
    expect(rows[0]).toHaveAttribute("data-exam", "true");
    expect(rows[11]).toHaveTextContent("不及格");
    expect(within(history).getByRole("heading", { name: "最近 10 次得分" })).toBeVisible();
    const bars = within(history).getAllByTestId("history-bar");
    expect(bars).toHaveLength(10);
    expect(bars[0]).toHaveTextContent("练习 2");
    expect(bars[0]).toHaveTextContent("50 分");
    expect(bars[9]).toHaveTextContent("上岗考核一");
    expect(bars[9]).toHaveTextContent("95 分");
    expect(bars[9]!.querySelector("rect.fill")).toHaveAttribute("width", "95");

    // Closing the history goes back to the picker it was opened from.
    await userEvent.click(within(history).getByRole("button", { name: "关闭" }));
    expect(await screen.findByRole("dialog", { name: "练习模式：选一个练习" })).toBeInTheDocument();
  });
});

describe("mock host practice", () => {
  it("swaps the live desk for the sandbox and back, like the core", async () => {
    const host = createMockHost({ signedIn: MOCK_AGENT, queue: [liveItem("live-1")] });
    expect((await host.practiceStatus()).active).toBe(false);
    const trainee = await host.startPractice({ pack: "pack-zh-shift-1" });
    expect(trainee).toMatchObject({ code: "a1001", name: "王秀英", practice: true });
    expect((await host.queue("all")).map((i) => i.id)).toEqual([
      "conv-sc-zh-where-parcel",
      "conv-sc-zh-coupon-expired",
    ]);
    const status = await host.practiceStatus();
    expect(status).toMatchObject({ active: true, exam: false, passMark: 60, passed: null });
    expect(status.contacts.every((c) => !c.over)).toBe(true);
    expect(await host.practiceReport("live-1")).toBeNull();

    await host.reply("conv-sc-zh-coupon-expired", "您好，实在抱歉，过期的券恢复不了");
    const thread = (await host.conversation("conv-sc-zh-coupon-expired"))!.messages;
    expect(thread.map((m) => m.author)).toEqual(["customer", "agent", "customer"]);
    expect(thread[2]!.body).toContain("亏了10块");

    expect(await host.stopPractice()).toMatchObject({ code: "a1001", practice: false });
    expect((await host.queue("all")).map((i) => i.id)).toEqual(["live-1"]);
    expect((await host.practiceStatus()).active).toBe(false);
    await host.practiceMark("live-1", { article: "kb-refund" });
    expect((await host.conversation("live-1"))!.messages).toHaveLength(1);
    expect(await host.practiceHistory(), "nothing was finished").toEqual([]);
  });
});

describe("accessibility", () => {
  for (const language of ["zh-CN", "en"] as const) {
    it(`has no serious or critical axe violations in ${language}: sign-in, picker, band, report, history`, async () => {
      const zh = language === "zh-CN";
      renderApp({}, language);
      await screen.findByTestId("sign-in-form");
      expect(await seriousViolations(), "sign-in with practice").toEqual([]);

      await userEvent.click(screen.getByTestId("practice-without-sign-in"));
      const picker = await screen.findByTestId("practice-picker");
      await within(picker).findAllByTestId("practice-scenario");
      expect(await seriousViolations(), "picker").toEqual([]);

      await userEvent.click(within(picker).getAllByTestId("practice-start-scenario")[0]!);
      await screen.findByTestId("practice-band");
      const claim = await screen.findByTestId("queue-claim");
      expect(await seriousViolations(), "queue with the band").toEqual([]);

      await userEvent.click(claim);
      await userEvent.click(await screen.findByTestId("queue-open"));
      await screen.findByTestId("conversation");
      await send(zh ? "您好，我帮您查一下" : "Hi there, let me check");
      expect(await seriousViolations(), "conversation with the band").toEqual([]);

      await wrapUp("resolved");
      const report = await screen.findByTestId("score-report");
      await within(report).findAllByTestId("score-item");
      expect(await seriousViolations(), "score report").toEqual([]);
      await userEvent.click(within(report).getByTestId("score-report-done"));

      await userEvent.click(await screen.findByTestId("practice-band-history"));
      await within(await screen.findByTestId("practice-history")).findAllByTestId("history-row");
      expect(await seriousViolations(), "history").toEqual([]);
    });
  }
});
