// Practice mode in the UI, on recordings of the real practice engine
// (fixtures/practice.*.json, `make fixtures`): starting without signing in,
// the practice band and frame on every screen, the customer's answers in
// the thread, the score report after the wrap-up, the history, an exam that
// keeps its reports until the end, marks for articles and script steps only
// in practice, a refused scenario, the way back, and no serious
// accessibility violations in either language. What is scored and why is
// tested in Rust (crates/core/src/practice/tests.rs); these tests check that
// the UI shows what the engine answered.
import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import {
  MOCK_AGENT,
  catalog,
  recording,
  type PracticeRecording,
  type PracticeStep,
} from "../host/mock";
import type { Locale, ScoreReport } from "../host";
import { HostError } from "../host";
import { myItem, renderDesk, seriousViolations, type DeskOptions } from "../testing/render";

/** Serious and critical axe findings (colour contrast cannot be computed in jsdom). */
/** Practice starts signed out unless a test signs in. */
const renderApp = (options: DeskOptions = {}, language?: Locale) =>
  renderDesk({ signedOut: true, ...options }, language);

const band = () => screen.getByTestId("practice-band");

/** The recorded frames: the first, the last, and the one after a step. */
const first = (rec: PracticeRecording) => rec.frames[0]!;
const last = (rec: PracticeRecording) => rec.frames[rec.frames.length - 1]!;
const steps = (rec: PracticeRecording): PracticeStep[] =>
  rec.frames.flatMap((f) => (f.after ? [f.after] : []));
/** The final score report of a recorded contact. */
const finalReport = (rec: PracticeRecording, conversationId: string): ScoreReport =>
  last(rec).reports[conversationId]!;
const customerOf = (rec: PracticeRecording, conversationId: string) =>
  first(rec).queue.find((item) => item.id === conversationId)!.customerName;

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

/** Plays a recorded contact's replies and wrap-up through the UI (claimed and open). */
async function playContact(rec: PracticeRecording, conversationId: string) {
  for (const step of steps(rec).filter((s) => s.conversationId === conversationId)) {
    if (step.call === "reply") await send(step.body);
    if (step.call === "wrapUp") await wrapUp(step.disposition);
  }
}

describe("practice without signing in", () => {
  it("starts a scenario from the sign-in screen, frames every screen, shows the customer's answers, the score report and the history", async () => {
    const rec = recording("where-parcel");
    const conversationId = "conv-sc-zh-where-parcel";
    const report = finalReport(rec, conversationId);
    const { host } = renderApp({ recordings: [rec] });
    await practiseWithoutSigningIn(first(rec).status.title!);

    // The queue screen: band, frame, the practice identity, one simulated customer.
    expect(band()).toHaveTextContent("练习模式");
    await waitFor(() => expect(band()).toHaveTextContent("练习：我的快递到哪了"));
    expect(within(band()).getByRole("button", { name: "结束练习" })).toBeInTheDocument();
    expect(document.querySelector(".practice-frame")).toBeInTheDocument();
    expect(screen.getByTestId("signed-in-as")).toHaveTextContent("练习学员");
    expect(screen.queryByTestId("sign-out"), "practice ends with its own button").toBeNull();
    expect(screen.queryByTestId("practice-open")).toBeNull();
    expect(
      screen.getByTestId("connection-state"),
      "not 'online': no platform here",
    ).toHaveTextContent("练习中（模拟客户，不联网）");
    const rows = await screen.findAllByTestId("queue-row");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toHaveTextContent(first(rec).queue[0]!.lastMessagePreview);

    // The conversation screen: still framed, and each of the customer's answers shows.
    const conversation = await takeCustomer(customerOf(rec, conversationId));
    expect(band()).toBeInTheDocument();
    expect(within(conversation).getByTestId("conversation-channel")).toHaveTextContent("在线咨询");
    for (const [index, frame] of rec.frames.entries()) {
      const step = frame.after;
      if (step?.call !== "reply") continue;
      await send(step.body);
      const said = frame.conversations[conversationId]!.messages.slice(-1)[0]!;
      expect(said.author, `the customer answered reply ${index}`).toBe("customer");
      await waitFor(() =>
        expect(within(conversation).getByTestId("thread")).toHaveTextContent(said.body),
      );
    }
    await wrapUp(report.disposition!);

    // The score report: met and missed items with reasons, times, replay.
    const dialog = await screen.findByRole("dialog", { name: `评分：${report.title}` });
    expect(dialog).toHaveAttribute("data-testid", "score-report");
    expect(within(dialog).getByTestId("score-percent")).toHaveTextContent(`${report.percent} 分`);
    expect(within(dialog).getByTestId("score-verdict")).toHaveTextContent(
      report.passed ? "及格" : "不及格",
    );
    expect(dialog).toHaveTextContent(`及格线 ${report.passMark} 分`);
    const items = within(dialog).getAllByTestId("score-item");
    expect(items.map((i) => i.dataset.item)).toEqual(report.items.map((i) => i.id));
    for (const [index, item] of report.items.entries()) {
      expect(items[index]).toHaveAttribute("data-met", String(item.met));
      expect(items[index]).toHaveTextContent(item.met ? "做到了" : "没做到");
      expect(items[index]).toHaveTextContent(item.reason);
    }
    expect(within(dialog).getAllByTestId("score-time")).toHaveLength(report.responseTimes.length);
    expect(within(dialog).getByTestId("score-escalated")).toHaveTextContent("客户没有升级投诉");
    expect(within(dialog).getByTestId("score-disposition")).toHaveTextContent("你选的：问题已解决");
    expect(within(dialog).getByTestId("score-disposition")).toHaveTextContent("应该选：已答复咨询");
    // The core names the article by the title the PC's knowledge base has.
    expect(report.helpfulArticleTitle, "the engine's report carries the title").toBeTruthy();
    expect(within(dialog).getByTestId("score-article")).toHaveTextContent(
      report.helpfulArticleTitle!,
    );
    const replay = within(dialog).getByTestId("score-replay");
    const lines = within(replay).getAllByRole("listitem");
    expect(lines.map((l) => l.dataset.kind)).toEqual(report.replay.map((r) => r.kind));
    expect(lines[0]).toHaveTextContent(/^0:00\s*客户\s*在吗/);
    expect(lines[lines.length - 1]).toHaveTextContent("问题已解决");

    await userEvent.click(within(dialog).getByTestId("score-report-done"));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(band()).toHaveTextContent("练习：我的快递到哪了");

    // The history keeps it.
    await userEvent.click(within(band()).getByRole("button", { name: "练习记录" }));
    const history = await screen.findByRole("dialog", { name: "练习记录" });
    expect(history).toHaveAttribute("data-testid", "practice-history");
    const row = await within(history).findByTestId("history-row");
    expect(row).toHaveTextContent("我的快递到哪了");
    expect(row).toHaveTextContent(`${report.percent} 分`);
    expect(row).toHaveTextContent(report.passed ? "及格" : "不及格");
    expect(row).toHaveTextContent("练习");
    expect(within(history).getAllByTestId("history-bar")).toHaveLength(1);
    await userEvent.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());

    // Ending practice goes back to the sign-in screen.
    await userEvent.click(within(band()).getByRole("button", { name: "结束练习" }));
    expect(await screen.findByRole("heading", { name: "登录工作台" })).toBeInTheDocument();
    expect(screen.queryByTestId("practice-band")).toBeNull();
    expect(document.querySelector(".practice-frame")).toBeNull();
    expect(host.calls).toContain("stopPractice");
    await waitFor(() =>
      expect(screen.getByRole("button", { name: "不登录，直接练习" })).toHaveFocus(),
    );
  });

  it("says plainly when a scenario cannot be started, and stays on the sign-in screen", async () => {
    const listed = catalog("zh-CN");
    listed.scenarios.push({
      id: "sc-zh-removed",
      title: "已经删掉的场景",
      level: "easy",
      channel: "chat",
      summary: "场景文件在列表读出来以后被删掉了。",
      locale: "zh-CN",
    });
    const { host } = renderApp({
      answers: {
        practiceCatalog: async () => listed,
        startPractice: async () => {
          throw new HostError("invalid_input", 'no practice scenario "sc-zh-removed"');
        },
      },
    });
    await userEvent.click(await screen.findByRole("button", { name: "不登录，直接练习" }));
    const picker = await screen.findByRole("dialog", { name: "练习模式：选一个练习" });
    await userEvent.click(
      await within(picker).findByRole("button", { name: "开始练习：已经删掉的场景" }),
    );
    expect(await within(picker).findByRole("alert")).toHaveTextContent("这个练习没能开始");
    expect(screen.queryByTestId("practice-band")).toBeNull();
    expect(host.calls).toContain('startPractice:{"scenario":"sc-zh-removed"}');
    expect(screen.getByRole("button", { name: "不登录，直接练习" })).toBeInTheDocument();
  });

  it("groups scenarios by level with channel and summary, and lists shifts and exams apart", async () => {
    const listed = catalog("zh-CN");
    const count = (level: string) => listed.scenarios.filter((s) => s.level === level).length;
    renderApp();
    await userEvent.click(await screen.findByRole("button", { name: "不登录，直接练习" }));
    const picker = await screen.findByRole("dialog", { name: "练习模式：选一个练习" });
    expect(
      await within(picker).findByRole("heading", { name: `简单（${count("easy")} 个）` }),
    ).toBeVisible();
    expect(
      within(picker).getByRole("heading", { name: `较难（${count("hard")} 个）` }),
    ).toBeVisible();
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
    const rec = recording("where-parcel");
    renderApp({ recordings: [rec] });
    await practiseWithoutSigningIn(first(rec).status.title!);
    await waitFor(() => expect(screen.getByTestId("signed-in-as")).toHaveTextContent("练习学员"));
    await userEvent.click(screen.getByRole("button", { name: "English" }));
    await waitFor(() => expect(screen.getByTestId("signed-in-as")).toHaveTextContent("Trainee"));
    expect(screen.getByTestId("signed-in-as")).not.toHaveTextContent("练习学员");
  });
});

describe("an impatient customer", () => {
  it("shows the nudge and the escalation, and the report marks the late reply and the escalation", async () => {
    const rec = recording("rotten-peaches-late");
    const conversationId = "conv-sc-zh-rotten-peaches";
    const report = finalReport(rec, conversationId);
    renderApp({ recordings: [rec] });
    await practiseWithoutSigningIn(first(rec).status.title!);
    await takeCustomer(customerOf(rec, conversationId));
    await playContact(rec, conversationId);

    const dialog = await screen.findByTestId("score-report");
    const times = within(dialog).getAllByTestId("score-time");
    const late = report.responseTimes[0]!;
    expect(late.onTime).toBe(false);
    expect(times[0]).toHaveAttribute("data-on-time", "false");
    expect(times[0]).toHaveClass("late");
    expect(times[0]).toHaveTextContent(`${late.secs} 秒`);
    expect(times[0]).toHaveTextContent("超时");
    expect(within(dialog).getByTestId("score-escalated")).toHaveTextContent("升级投诉了");
    const item = (id: string) =>
      within(dialog)
        .getAllByTestId("score-item")
        .find((i) => i.dataset.item === id)!;
    for (const id of ["no_escalation", "in_time"]) {
      expect(item(id)).toHaveAttribute("data-met", "false");
      expect(item(id)).toHaveTextContent(report.items.find((i) => i.id === id)!.reason);
    }
    const kinds = within(within(dialog).getByTestId("score-replay"))
      .getAllByRole("listitem")
      .map((l) => l.dataset.kind);
    expect(kinds.slice(0, 4)).toEqual(["customer", "nudge", "escalation", "reply"]);
  });

  it("shows what the customer said while the trainee was away in the thread", async () => {
    const rec = recording("rotten-peaches-late");
    const conversationId = "conv-sc-zh-rotten-peaches";
    renderApp({ recordings: [rec] });
    await practiseWithoutSigningIn(first(rec).status.title!);
    const conversation = await takeCustomer(customerOf(rec, conversationId));
    const reply = steps(rec).find((s) => s.call === "reply")!;
    await send(reply.call === "reply" ? reply.body : "");
    const thread = within(conversation).getByTestId("thread");
    const said = rec.frames.find((f) => f.after === reply)!.conversations[conversationId]!;
    for (const message of said.messages) {
      await waitFor(() => expect(thread).toHaveTextContent(message.body));
    }
  });
});

describe("exam", () => {
  it("keeps each customer's report until the end, then shows the result against the pass mark; ending returns to the live desk", async () => {
    const rec = recording("exam");
    const result = last(rec).status;
    const contacts = result.contacts;
    const { host } = renderApp({
      signedIn: MOCK_AGENT,
      queue: [myItem("live-1", { customerName: "王大妈" })],
      recordings: [rec],
    });
    await screen.findByRole("button", { name: "打开王大妈的会话" });
    await userEvent.click(screen.getByRole("button", { name: "练习" }));
    const picker = await screen.findByRole("dialog", { name: "练习模式：选一个练习" });
    await userEvent.click(
      await within(picker).findByRole("button", { name: "开始考试：上岗考核一：售后综合" }),
    );
    await screen.findByTestId("practice-band");
    await waitFor(() => expect(band()).toHaveTextContent("考试：上岗考核一：售后综合"));
    expect(band()).toHaveTextContent(`已完成 0 / ${contacts.length} 位客户`);
    expect(band()).toHaveTextContent("考试中没有提示");
    expect(screen.queryByTestId("practice-score"), "no score during an exam").toBeNull();
    expect(screen.getByTestId("signed-in-as")).toHaveTextContent("王秀英");
    await waitFor(() => expect(screen.getAllByTestId("queue-row")).toHaveLength(contacts.length));
    expect(screen.queryByRole("button", { name: "打开王大妈的会话" })).toBeNull();

    const taken = steps(rec).filter((s) => s.call === "claim");
    for (const [index, { conversationId }] of taken.entries()) {
      await takeCustomer(customerOf(rec, conversationId));
      if (rec.scripts[conversationId]) {
        // A phone call-back lists the call scripts, but an exam gives no hints.
        const choices = await screen.findAllByTestId("script-choice");
        expect(choices.length).toBeGreaterThan(1);
        for (const choice of choices) {
          expect(choice).toHaveAttribute("data-suggested", "false");
          expect(choice).not.toHaveTextContent("推荐");
        }
      }
      await playContact(rec, conversationId);
      if (index < taken.length - 1) {
        await waitFor(() =>
          expect(band()).toHaveTextContent(`已完成 ${index + 1} / ${contacts.length} 位客户`),
        );
        expect(screen.queryByTestId("score-report"), "no report before the end").toBeNull();
        expect(screen.queryByRole("dialog")).toBeNull();
      }
    }
    await waitFor(() =>
      expect(host.calls, "each finished contact is read, so the history keeps it").toContain(
        `practiceReport:${taken[0]!.conversationId}`,
      ),
    );

    const dialog = await screen.findByRole("dialog", { name: "考试成绩：上岗考核一：售后综合" });
    expect(dialog).toHaveAttribute("data-testid", "practice-result");
    expect(within(dialog).getByTestId("practice-result-verdict")).toHaveTextContent(
      result.passed ? "及格" : "不及格",
    );
    expect(dialog).toHaveTextContent("及格线 80 分");
    expect(within(dialog).getAllByTestId("practice-result-contact")).toHaveLength(contacts.length);
    expect(await seriousViolations(), "exam result").toEqual([]);
    await userEvent.click(
      within(dialog).getByRole("button", { name: "查看评分：直播间买的水蜜桃烂了，客户很生气" }),
    );
    const report = await screen.findByTestId("score-report");
    expect(within(report).getAllByTestId("score-item")).toHaveLength(
      finalReport(rec, "conv-sc-zh-rotten-peaches").items.length,
    );
    await userEvent.click(within(report).getByTestId("score-report-done"));
    expect(
      await screen.findByRole("dialog", { name: "考试成绩：上岗考核一：售后综合" }),
      "back to the result",
    ).toBeInTheDocument();
    await userEvent.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());

    await userEvent.click(within(band()).getByRole("button", { name: "结束练习" }));
    await waitFor(() => expect(screen.queryByTestId("practice-band")).toBeNull());
    expect(await screen.findByRole("button", { name: "打开王大妈的会话" })).toBeInTheDocument();
    expect(screen.getByTestId("signed-in-as")).toHaveTextContent("a1001");
    expect(screen.getByTestId("sign-out")).toBeInTheDocument();
  }, 30_000);
});

describe("practice marks", () => {
  it("tells the practice customer about script steps reached and articles opened or inserted", async () => {
    const rec = recording("refund-marks");
    const id = "conv-sc-zh-refund-not-received";
    const { host } = renderApp({ recordings: [rec] });
    await practiseWithoutSigningIn(first(rec).status.title!);
    const conversation = await takeCustomer(customerOf(rec, id));
    await userEvent.click(
      await within(conversation).findByRole("button", { name: /退款进度回访/ }),
    );
    const mark = `practiceMark:${id}:`;
    await waitFor(() =>
      expect(host.calls).toContain(`${mark}{"script_step":"script-zh-refund-callback#greet"}`),
    );
    const reply = steps(rec).find((s) => s.call === "reply")!;
    await send(reply.call === "reply" ? reply.body : "");
    await userEvent.click(within(conversation).getByRole("button", { name: "是本人，方便" }));
    await waitFor(() =>
      expect(host.calls).toContain(`${mark}{"script_step":"script-zh-refund-callback#verify"}`),
    );
    await waitFor(() =>
      expect(within(conversation).getByTestId("thread")).toHaveTextContent("手机尾号0517"),
    );

    await userEvent.type(screen.getByTestId("knowledge-search"), "坏果");
    await userEvent.click(await screen.findByRole("button", { name: "生鲜水果坏果包赔" }));
    const marks = () =>
      host.calls.filter((c) => c === `${mark}{"article":"kb-zh-farm-rotten-fruit"}`);
    await waitFor(() => expect(marks()).toHaveLength(1));
    await userEvent.click(screen.getByTestId("kb-insert"));
    await waitFor(() => expect(marks(), "inserting counts too").toHaveLength(2));
  });

  it("never marks anything on the live desk", async () => {
    const rec = recording("refund-marks");
    const { host } = renderApp({
      signedIn: MOCK_AGENT,
      queue: [myItem("c1", { channel: "phone", customerName: "李桂兰" })],
      answers: {
        scripts: async () => rec.scripts["conv-sc-zh-refund-not-received"]!,
        searchArticles: async (query) => rec.searches[query] ?? [],
        article: async (id) => rec.articles[id] ?? null,
      },
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
    const rec = recording("en-shift");
    const id = "conv-sc-en-where-parcel";
    const report = finalReport(rec, id);
    const total = first(rec).status.contacts.length;
    renderApp({ recordings: [rec] }, "en");
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
    await waitFor(() => expect(band()).toHaveTextContent(`0 of ${total} customers done`));
    expect(band()).toHaveTextContent("Practice");
    expect(screen.getByTestId("signed-in-as")).toHaveTextContent("Trainee");

    const customer = customerOf(rec, id);
    await userEvent.click(
      await screen.findByRole("button", { name: `Claim the conversation with ${customer}` }),
    );
    await userEvent.click(
      await screen.findByRole("button", { name: `Open the conversation with ${customer}` }),
    );
    await playContact(rec, id);
    const dialog = await screen.findByRole("dialog", { name: `Score: ${report.title}` });
    expect(within(dialog).getByTestId("score-verdict")).toHaveTextContent(
      report.passed ? "Passed" : "Not passed",
    );
    const missed = within(dialog)
      .getAllByTestId("score-item")
      .find((i) => i.dataset.item === "found_cause")!;
    expect(missed).toHaveTextContent("Missed");
    expect(missed).toHaveTextContent("No reply said anything like");
    await userEvent.click(within(dialog).getByTestId("score-report-done"));
    await waitFor(() => expect(band()).toHaveTextContent(`1 of ${total} customers done`));
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

describe("accessibility", () => {
  for (const language of ["zh-CN", "en"] as const) {
    it(`has no serious or critical axe violations in ${language}: sign-in, picker, band, report, history`, async () => {
      const zh = language === "zh-CN";
      const rec = recording(zh ? "where-parcel" : "en-parcel");
      const id = zh ? "conv-sc-zh-where-parcel" : "conv-sc-en-where-parcel";
      renderApp({ recordings: [rec] }, language);
      await screen.findByTestId("sign-in-form");
      expect(await seriousViolations(), "sign-in with practice").toEqual([]);

      await userEvent.click(screen.getByTestId("practice-without-sign-in"));
      const picker = await screen.findByTestId("practice-picker");
      await within(picker).findAllByTestId("practice-scenario");
      expect(await seriousViolations(), "picker").toEqual([]);

      const scenario = within(picker)
        .getAllByTestId("practice-scenario")
        .find((s) => s.dataset.scenario === id.slice("conv-".length))!;
      await userEvent.click(within(scenario).getByTestId("practice-start-scenario"));
      await screen.findByTestId("practice-band");
      const claim = await screen.findByTestId("queue-claim");
      expect(await seriousViolations(), "queue with the band").toEqual([]);

      await userEvent.click(claim);
      await userEvent.click(await screen.findByTestId("queue-open"));
      await screen.findByTestId("conversation");
      const [reply, ...rest] = steps(rec).filter((s) => s.call !== "claim");
      await send(reply?.call === "reply" ? reply.body : "");
      expect(await seriousViolations(), "conversation with the band").toEqual([]);

      for (const step of rest) {
        if (step.call === "reply") await send(step.body);
        if (step.call === "wrapUp") await wrapUp(step.disposition);
      }
      const report = await screen.findByTestId("score-report");
      await within(report).findAllByTestId("score-item");
      expect(await seriousViolations(), "score report").toEqual([]);
      await userEvent.click(within(report).getByTestId("score-report-done"));

      await userEvent.click(await screen.findByTestId("practice-band-history"));
      await within(await screen.findByTestId("practice-history")).findAllByTestId("history-row");
      expect(await seriousViolations(), "history").toEqual([]);
    }, 30_000);
  }
});
