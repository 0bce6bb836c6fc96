// The team console against the mock host with the demo team
// (host/mock-console.ts): who lands on it, the team view and its live
// re-reads, the kept view when the link drops, what a supervisor does from
// it (reassign, away and back, a note that mentions an agent), the
// trainees and their promotion, the reports and their CSV, the "take
// contacts" switch, and no accessibility findings on any of its screens.
import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import App from "../../App.svelte";
import { MOCK_AGENT, createMockHost, fails } from "../host/mock";
import {
  MOCK_SUPERVISOR,
  MOCK_TRAINER,
  consoleAnswers,
  type ConsoleWorld,
} from "../host/mock-console";
import type { Locale, SignedInAgent } from "../host";
import { useLocale } from "../i18n/index.svelte";
import { seriousViolations } from "../testing/render";
import StaleBanner from "./console/StaleBanner.svelte";
import { daysBefore } from "./console/time";

/** The App for `who` (a resumed session) with the demo team behind the console. */
function renderConsole(
  who: SignedInAgent = MOCK_SUPERVISOR,
  world: Partial<ConsoleWorld> = {},
  language: Locale = "zh-CN",
) {
  useLocale(language);
  const host = createMockHost({ signedIn: who, info: { locale: language } });
  const team = consoleAnswers(host, world);
  return { host, world: team, ...render(App, { props: { host } }) };
}

const row = (code: string) =>
  screen.getAllByTestId("team-agent-row").find((r) => r.dataset.agent === code)!;
const findRow = async (code: string) => {
  await screen.findAllByTestId("team-agent-row");
  return row(code);
};
const traineeRow = (code: string) =>
  screen.getAllByTestId("trainee-row").find((r) => r.dataset.trainee === code)!;

afterEach(() => {
  vi.useRealTimers();
  useLocale("zh-CN");
});

describe("who lands where", () => {
  it("a supervisor lands on the team console with three tabs, not on the queue", async () => {
    renderConsole();
    const console = await screen.findByTestId("console");
    expect(within(console).getByRole("heading", { level: 2 })).toHaveTextContent("团队看板");
    const tabs = within(console).getAllByRole("tab");
    expect(tabs.map((t) => t.textContent?.trim())).toEqual(["团队", "报表", "学员"]);
    expect(screen.getByTestId("console-tab-team")).toHaveAttribute("aria-selected", "true");
    expect(await screen.findAllByTestId("team-agent-row")).toHaveLength(6);
    expect(screen.queryByTestId("queue-rows"), "no queue on the console").toBeNull();
    expect(screen.getByTestId("take-contacts")).not.toBeChecked();
  });

  it("a trainer lands on the trainees alone", async () => {
    renderConsole(MOCK_TRAINER);
    await screen.findByTestId("console");
    expect(await screen.findAllByTestId("trainee-row")).toHaveLength(2);
    expect(screen.queryByTestId("console-tab-team"), "a trainer has no team view").toBeNull();
    expect(screen.queryByTestId("console-tab-reports")).toBeNull();
    expect(screen.queryByTestId("take-contacts"), "a trainer takes no contacts").toBeNull();
    expect(screen.queryByTestId("presence"), "nor has a presence to choose").toBeNull();
  });

  it("an agent sees the desk as before", async () => {
    renderConsole(MOCK_AGENT);
    expect(await screen.findByTestId("queue-empty")).toBeInTheDocument();
    expect(screen.queryByTestId("console")).toBeNull();
    expect(screen.queryByTestId("console-open")).toBeNull();
  });

  it("a supervisor who signs in on the form lands on the console too", async () => {
    useLocale("zh-CN");
    const host = createMockHost({ answers: { signIn: async () => ({ ...MOCK_SUPERVISOR }) } });
    consoleAnswers(host);
    render(App, { props: { host } });
    await userEvent.type(await screen.findByTestId("sign-in-agent"), "s3001");
    await userEvent.type(screen.getByTestId("sign-in-password"), "homedesk-demo{Enter}");
    await screen.findByTestId("console");
    await waitFor(() => expect(screen.getByTestId("console-tab-team")).toHaveFocus());
  });

  it("moves between tabs with the arrow keys, Home and End", async () => {
    renderConsole();
    const team = await screen.findByTestId("console-tab-team");
    team.focus();
    await userEvent.keyboard("{ArrowRight}");
    expect(screen.getByTestId("console-tab-reports")).toHaveFocus();
    expect(screen.getByTestId("console-tab-reports")).toHaveAttribute("aria-selected", "true");
    expect(await screen.findByTestId("reports-from")).toBeInTheDocument();
    await userEvent.keyboard("{End}");
    expect(screen.getByTestId("console-tab-trainees")).toHaveFocus();
    await userEvent.keyboard("{ArrowRight}");
    expect(screen.getByTestId("console-tab-team"), "wraps around").toHaveFocus();
    expect(screen.getByTestId("console-tab-reports")).toHaveAttribute("tabindex", "-1");
  });
});

describe("the team view", () => {
  it("shows each agent's status, link, conversations, wait and day, and each queue", async () => {
    renderConsole();
    const chen = await findRow("a1002");
    expect(chen).toHaveTextContent("陈建国");
    expect(within(chen).getByTestId("team-agent-link")).toHaveTextContent("网络差 4 分钟");
    expect(within(chen).getByTestId("team-agent-holding")).toHaveTextContent(/^1$/);
    expect(within(chen).getByTestId("team-agent-waiting")).toHaveTextContent("1 分 15 秒");
    expect(within(row("a1004")).getByTestId("team-agent-link")).toHaveTextContent("离线 12 分钟");
    expect(row("a1003"), "why a1003 is on a break").toHaveTextContent("小休（主管设置的）");

    const queues = screen.getAllByTestId("team-queue");
    expect(queues.map((q) => q.dataset.queue)).toEqual([
      "presales",
      "aftersales",
      "logistics",
      "complaints",
    ]);
    expect(within(queues[0]!).getByTestId("team-queue-depth")).toHaveTextContent(/^3$/);
    expect(queues[0]).toHaveTextContent("最久已等 2 分 30 秒");
    expect(queues[1]).toHaveTextContent("已超时");
    expect(queues[1]).toHaveTextContent("橙子坏了三个");
    expect(queues[1]).toHaveTextContent("陈建国（工号 a1002）");
    expect(queues[1]).toHaveTextContent("首次回复已超时 1 分钟");
    expect(queues[0]).toHaveTextContent("即将超时");
    expect(queues[0]).toHaveTextContent("还没人领取");
  });

  it("reads the team again when the platform says it changed, and after the desk's changes", async () => {
    const { host, world } = renderConsole();
    const holding = async () =>
      within(await findRow("a1002")).getByTestId("team-agent-holding").textContent;
    expect(await holding()).toBe("1");

    world.team.agents[1]!.holding = 2;
    host.send({ type: "team_changed" });
    await waitFor(async () => expect(await holding()).toBe("2"));

    // A burst of desk changes makes one read, half a second after the last.
    world.team.agents[1]!.holding = 0;
    const reads = () => host.calls.filter((c) => c === "consoleTeam").length;
    const before = reads();
    host.send({ type: "changed" });
    host.send({ type: "changed" });
    host.send({ type: "changed" });
    await waitFor(async () => expect(await holding()).toBe("0"), { timeout: 2000 });
    expect(reads() - before, "one read for the burst").toBe(1);
  });

  it("keeps the last view when the link drops and says how old it is", async () => {
    const { host, world } = renderConsole();
    await findRow("a1002");
    world.online = false;
    world.kept.team!.at = Date.now() - 3 * 60_000;
    host.send({ type: "team_changed" });
    const banner = await screen.findByTestId("team-stale-banner");
    expect(banner).toHaveTextContent("网络断开，显示的是 3 分钟前的数据");
    expect(screen.getAllByTestId("team-agent-row"), "the data stays").toHaveLength(6);

    world.online = true;
    host.send({ type: "team_changed" });
    await waitFor(() => expect(screen.queryByTestId("team-stale-banner")).toBeNull());
  });

  it("says so plainly when it never had a view and the link is down", async () => {
    renderConsole(MOCK_SUPERVISOR, { online: false });
    expect(await screen.findByTestId("team-never-loaded")).toHaveTextContent(
      "这台电脑上还没有团队数据",
    );
    expect(screen.queryByTestId("team-agent-row")).toBeNull();
  });

  it("counts the age of a kept view on while it shows", async () => {
    vi.useFakeTimers({ now: 1_800_000_000_000, toFake: ["Date", "setInterval", "clearInterval"] });
    useLocale("en");
    render(StaleBanner, { props: { fetchedAt: Date.now() - 115_000, testid: "stale" } });
    expect(screen.getByTestId("stale")).toHaveTextContent("showing data from 1 min ago");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(screen.getByTestId("stale")).toHaveTextContent("showing data from 2 min ago");
  });
});

describe("acting from the team view", () => {
  it("lists every conversation an agent holds, not only those at risk", async () => {
    renderConsole();
    const a1001 = await findRow("a1001");
    const opens = within(a1001).getAllByTestId("team-open-conversation");
    expect(opens.map((b) => b.textContent)).toEqual([
      expect.stringContaining("退款一直没到账"),
      expect.stringContaining("想改收货地址"),
    ]);
    expect(within(await findRow("a1003")).queryByTestId("team-open-conversation")).toBeNull();
  });

  it("opens a conversation read-only and reassigns it to another agent", async () => {
    const { host } = renderConsole();
    await userEvent.click(within(await findRow("a1002")).getByTestId("team-open-conversation"));
    const panel = await screen.findByTestId("console-conversation");
    expect(await within(panel).findByText("我买的橙子坏了三个，怎么处理？")).toBeInTheDocument();
    expect(panel).toHaveTextContent("陈建国（工号 a1002）在处理");
    expect(within(panel).queryByTestId("composer-body"), "no reply box").toBeNull();

    await userEvent.click(within(panel).getByTestId("reassign-open"));
    const agents = (await screen.findByTestId("reassign-agent")) as HTMLSelectElement;
    const offered = [...agents.options].map((o) => o.value);
    expect(offered, "not back to whoever holds it").not.toContain("a1002");
    expect(screen.getByTestId("reassign-submit")).toBeDisabled();
    await userEvent.selectOptions(agents, "a1004");
    await userEvent.click(screen.getByTestId("reassign-submit"));

    expect(host.calls).toContain('transfer:conv-2033:{"agent":"a1004"}');
    await waitFor(() => expect(screen.queryByTestId("reassign")).toBeNull());
    expect(screen.getByTestId("team-said")).toHaveTextContent("已转给赵海燕（工号 a1004）");
  });

  it("sends a conversation back to a queue, one target or the other", async () => {
    const { host } = renderConsole();
    await screen.findAllByTestId("team-queue");
    const complaints = screen.getAllByTestId("team-queue")[3]!;
    await userEvent.click(within(complaints).getByTestId("team-open-conversation"));
    await userEvent.click(await screen.findByTestId("reassign-open"));
    await userEvent.selectOptions(await screen.findByTestId("reassign-agent"), "a1001");
    await userEvent.selectOptions(screen.getByTestId("reassign-queue"), "aftersales");
    expect(screen.getByTestId("reassign-agent"), "choosing a queue clears the agent").toHaveValue(
      "",
    );
    expect(screen.getByTestId("reassign-summary")).toHaveTextContent("售后服务");
    await userEvent.click(screen.getByTestId("reassign-submit"));
    expect(host.calls).toContain('transfer:conv-2029:{"queue":"aftersales"}');
  });

  it("says why when the platform does not allow a reassignment", async () => {
    const { host } = renderConsole();
    host.answers.transfer = fails(
      "forbidden",
      "agent a1005 works none of the queues you supervise",
    );
    await userEvent.click(within(await findRow("a1002")).getByTestId("team-open-conversation"));
    await userEvent.click(await screen.findByTestId("reassign-open"));
    await userEvent.selectOptions(await screen.findByTestId("reassign-agent"), "a1005");
    await userEvent.click(screen.getByTestId("reassign-submit"));
    const reassign = screen.getByTestId("reassign");
    expect(await within(reassign).findByRole("alert")).toHaveTextContent("平台不允许这个操作");
    expect(reassign).not.toHaveTextContent("supervise");
  });

  it("sets an agent away and back, never the supervisor themself", async () => {
    const { host } = renderConsole();
    await userEvent.click(within(await findRow("a1001")).getByTestId("agent-set-away"));
    expect(host.calls).toContain("setAgentPresence:a1001:on_break");
    expect(screen.getByTestId("team-said")).toHaveTextContent("已把王丽设为小休");

    await userEvent.click(within(row("a1003")).getByTestId("agent-set-back"));
    expect(host.calls).toContain("setAgentPresence:a1003:available");

    const me = row("s3001");
    expect(within(me).queryByTestId("agent-set-away")).toBeNull();
    expect(within(me).queryByTestId("agent-set-back")).toBeNull();
    expect(within(me).queryByTestId("note-to-agent-open")).toBeNull();
    expect(
      within(row("a1005")).queryByTestId("agent-set-away"),
      "nobody to set away when offline",
    ).toBeNull();
  });

  it("writes to an agent about a conversation they hold, with the mention in place", async () => {
    const { host } = renderConsole();
    await userEvent.click(within(await findRow("a1002")).getByTestId("note-to-agent-open"));
    const body = (await screen.findByTestId("console-note-body")) as HTMLTextAreaElement;
    await waitFor(() => expect(body).toHaveFocus());
    expect(body).toHaveValue("@a1002 ");
    await userEvent.type(body, "客户等了快两分钟了，先回一句");
    await userEvent.click(screen.getByTestId("console-note-send"));
    expect(host.calls).toContain("note:conv-2033:@a1002 客户等了快两分钟了，先回一句");
    expect(await screen.findByTestId("console-note-sent")).toHaveTextContent("备注已发出");
  });

  it("puts the agent picked in the note box at the start of the note", async () => {
    const { host } = renderConsole();
    await screen.findAllByTestId("team-queue");
    await userEvent.click(
      within(screen.getAllByTestId("team-queue")[0]!).getByTestId("team-open-conversation"),
    );
    const body = await screen.findByTestId("console-note-body");
    await userEvent.type(body, "这单能发顺丰");
    await userEvent.selectOptions(screen.getByTestId("console-note-agent"), "a1003");
    expect(body).toHaveValue("@a1003 这单能发顺丰");
    await userEvent.selectOptions(screen.getByTestId("console-note-agent"), "a1001");
    expect(body, "the mention follows the picker").toHaveValue("@a1001 这单能发顺丰");
    await userEvent.click(screen.getByTestId("console-note-send"));
    expect(host.calls).toContain("note:conv-2041:@a1001 这单能发顺丰");
  });
});

describe("trainees", () => {
  it("shows each trainee's scores, exams, missed items and untried scenarios, and the next lesson", async () => {
    renderConsole(MOCK_TRAINER);
    await screen.findAllByTestId("trainee-row");
    const sun = traineeRow("t2001");
    expect(sun).toHaveTextContent("孙小雨");
    expect(sun).toHaveTextContent("练了 5 次，考试通过 1 次");
    const chart = within(sun).getByTestId("trainee-chart");
    expect(chart.tagName).toBe("FIGURE");
    expect(chart).toHaveAccessibleName("孙小雨的成绩走势：一共 5 次，最近一次 88 分");
    const scores = within(chart).getAllByRole("listitem");
    expect(scores, "every score in words").toHaveLength(5);
    expect(scores[4]).toHaveTextContent("考试“我的快递到哪了”，88 分，及格");
    expect(chart.querySelector("svg")).toHaveAttribute("aria-hidden", "true");
    expect(chart.querySelector("line.pass"), "the exam pass mark is drawn").not.toBeNull();
    expect(sun).toHaveTextContent(
      "先向客户道歉，再说怎么处理（直播间买的水蜜桃烂了，客户很生气）：4 次里漏了 3 次",
    );
    expect(sun).toHaveTextContent("牛仔裤腰大了，想换小一码");
    expect(screen.getByTestId("trainees-most-missed")).toHaveTextContent("6 次里漏了 5 次");
  });

  it("promotes only a trainee who passed an exam, to the queues chosen", async () => {
    const { host } = renderConsole(MOCK_TRAINER);
    await screen.findAllByTestId("trainee-row");
    const gao = within(traineeRow("t2002")).getByTestId("promote-open");
    expect(gao).toBeDisabled();
    expect(gao).toHaveAccessibleDescription("还没有通过考试，考过了才能转正。");

    await userEvent.click(within(traineeRow("t2001")).getByTestId("promote-open"));
    const dialog = await screen.findByTestId("promote");
    expect(within(dialog).getByTestId("promote-submit"), "at least one queue").toBeDisabled();
    const box = (queue: string) =>
      within(dialog)
        .getAllByTestId("promote-queue")
        .find((b) => b.dataset.queue === queue)!;
    await userEvent.click(box("logistics"));
    await userEvent.click(box("presales"));
    await userEvent.click(within(dialog).getByTestId("promote-submit"));

    expect(host.calls).toContain('consolePromote:t2001:["presales","logistics"]');
    const done = await screen.findByTestId("promote-done");
    expect(done).toHaveTextContent("孙小雨（工号 t2001）已转正上岗，分到售前咨询和物流查询");
    expect(screen.queryByTestId("promote")).toBeNull();
    await waitFor(() => expect(screen.getAllByTestId("trainee-row")).toHaveLength(1));
    expect(done).toHaveFocus();
  });

  it("says in both languages what the platform's refusal means", async () => {
    for (const [language, text] of [
      ["zh-CN", "平台不允许这个操作"],
      ["en", "The platform doesn't allow this"],
    ] as const) {
      const { host, unmount } = renderConsole(MOCK_TRAINER, {}, language);
      host.answers.consolePromote = fails("forbidden", "t2001 has passed no exam");
      await screen.findAllByTestId("trainee-row");
      await userEvent.click(within(traineeRow("t2001")).getByTestId("promote-open"));
      await userEvent.click((await screen.findAllByTestId("promote-queue"))[0]!);
      await userEvent.click(screen.getByTestId("promote-submit"));
      const alert = await within(screen.getByTestId("promote")).findByRole("alert");
      expect(alert).toHaveTextContent(text);
      expect(alert).not.toHaveTextContent("passed no exam");
      unmount();
    }
  });
});

describe("reports", () => {
  it("shows the last seven days per agent and per day, and saves the CSV", async () => {
    const { host } = renderConsole();
    await userEvent.click(await screen.findByTestId("console-tab-reports"));
    expect(screen.getByTestId("reports-from")).toHaveValue(daysBefore(6));
    expect(screen.getByTestId("reports-to")).toHaveValue(daysBefore(0));
    const rows = await screen.findAllByTestId("reports-row");
    // Seven days of four agents, and a1005 every other day.
    expect(rows).toHaveLength(7 * 4 + 4);
    expect(host.calls).toContain(`consoleReports:${daysBefore(6)}:${daysBefore(0)}`);
    expect(screen.getAllByTestId("reports-chart")).toHaveLength(5);
    const table = screen.getByRole("table");
    expect(
      within(table)
        .getAllByRole("columnheader")
        .map((h) => h.textContent?.trim()),
    ).toEqual([
      "日期",
      "坐席",
      "处理量",
      "平均处理时长",
      "平均首次响应",
      "按时完成",
      "话后处理合计",
    ]);

    await userEvent.click(screen.getByTestId("reports-export"));
    expect(await screen.findByTestId("reports-saved")).toHaveTextContent(
      `已保存到 /home/zhoumin/下载/homedesk-report-${daysBefore(6)}-${daysBefore(0)}.csv`,
    );
  });

  it("says plainly that reports need the platform, and keeps what was shown", async () => {
    const { world } = renderConsole();
    await userEvent.click(await screen.findByTestId("console-tab-reports"));
    await screen.findAllByTestId("reports-row");
    world.online = false;
    await userEvent.click(screen.getByTestId("reports-export"));
    expect(await screen.findByTestId("reports-offline")).toHaveTextContent(
      "连不上平台：报表要联网才能查看和导出",
    );
    expect(screen.queryByTestId("reports-saved")).toBeNull();
    expect(screen.getAllByTestId("reports-row").length).toBeGreaterThan(0);
  });

  it("refuses a range that ends before it starts", async () => {
    const { host } = renderConsole();
    await userEvent.click(await screen.findByTestId("console-tab-reports"));
    await screen.findAllByTestId("reports-row");
    const from = screen.getByTestId("reports-from");
    await userEvent.clear(from);
    await userEvent.type(from, "2099-01-01");
    expect(screen.getByTestId("reports-invalid")).toHaveTextContent("开始日期不能晚于结束日期");
    expect(screen.getByTestId("reports-export")).toBeDisabled();
    const asked = host.calls.filter((c) => c.startsWith("consoleReports")).length;
    await userEvent.click(screen.getByTestId("reports-show"));
    expect(host.calls.filter((c) => c.startsWith("consoleReports"))).toHaveLength(asked);
  });
});

describe("a supervisor who takes contacts too", () => {
  it("switches to the desk as available, back to the console without a change, and off to offline", async () => {
    const { host } = renderConsole();
    await userEvent.click(await screen.findByTestId("take-contacts"));
    expect(host.calls).toContain("setPresence:available");
    expect(await screen.findByTestId("queue-empty"), "the desk shows").toBeInTheDocument();
    expect(screen.queryByTestId("console")).toBeNull();
    expect(screen.getByTestId("presence")).toHaveValue("available");

    await userEvent.click(screen.getByTestId("console-open"));
    expect(await screen.findByTestId("console")).toBeInTheDocument();
    expect(screen.getByTestId("take-contacts")).toBeChecked();
    expect(host.calls.filter((c) => c.startsWith("setPresence"))).toEqual([
      "setPresence:available",
    ]);
    await userEvent.click(screen.getByTestId("desk-open"));
    expect(await screen.findByTestId("queue-empty")).toBeInTheDocument();
    await userEvent.click(screen.getByTestId("console-open"));

    await userEvent.click(await screen.findByTestId("take-contacts"));
    expect(host.calls).toContain("setPresence:offline");
    expect(screen.getByTestId("take-contacts")).not.toBeChecked();
    expect(screen.getByTestId("console")).toBeInTheDocument();
    expect(screen.queryByTestId("desk-open")).toBeNull();
  });

  it("stays on the console, switch off, when the presence cannot be set", async () => {
    const { host } = renderConsole();
    host.answers.setPresence = fails("storage", "disk full");
    await userEvent.click(await screen.findByTestId("take-contacts"));
    expect(await screen.findByRole("alert")).toHaveTextContent("保存失败");
    expect(screen.getByTestId("take-contacts")).not.toBeChecked();
    expect(screen.getByTestId("console")).toBeInTheDocument();
  });
});

describe("accessibility", () => {
  for (const language of ["zh-CN", "en"] as const) {
    it(`has no serious findings on any console screen or dialog (${language})`, async () => {
      renderConsole(MOCK_SUPERVISOR, {}, language);
      await screen.findAllByTestId("team-agent-row");
      expect(await seriousViolations(), "team").toEqual([]);

      await userEvent.click(within(row("a1002")).getByTestId("team-open-conversation"));
      await screen.findByTestId("reassign-open");
      expect(await seriousViolations(), "conversation").toEqual([]);
      await userEvent.click(screen.getByTestId("reassign-open"));
      await screen.findByTestId("reassign-agent");
      expect(await seriousViolations(), "reassign").toEqual([]);
      await userEvent.keyboard("{Escape}");

      await userEvent.click(screen.getByTestId("console-tab-reports"));
      await screen.findAllByTestId("reports-row");
      expect(await seriousViolations(), "reports").toEqual([]);

      await userEvent.click(screen.getByTestId("console-tab-trainees"));
      await screen.findAllByTestId("trainee-row");
      expect(await seriousViolations(), "trainees").toEqual([]);
      await userEvent.click(within(traineeRow("t2001")).getByTestId("promote-open"));
      await screen.findByTestId("promote");
      expect(await seriousViolations(), "promote").toEqual([]);
    }, 30_000);
  }
});
