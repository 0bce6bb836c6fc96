// Sign-in and the queue against the mock host: errors the agent can act on,
// the remembered platform address, rows that arrive without a refresh,
// claiming, SLA colours, and no accessibility violations.
import { describe, expect, it } from "vitest";
import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import App from "../../App.svelte";
import { MOCK_AGENT, MOCK_PASSWORD, createMockHost, message } from "../host/mock";
import { conflict, conflictAnswers, deskAnswers } from "../host/mock-data";
import { HostError, type Host } from "../host";
import { useLocale } from "../i18n/index.svelte";
import { expectNoViolations, queueItem } from "../testing/render";

/** The platform's answer to a sign-in: the demo agent with the demo password over HTTPS. */
const platformSignIn: Host["signIn"] = async (url, agent, password) => {
  if (!url.startsWith("https://")) throw new HostError("unreachable", `cannot reach ${url}`);
  if (agent !== MOCK_AGENT.code || password !== MOCK_PASSWORD) {
    throw new HostError("wrong_password", "wrong agent code or password");
  }
  return { ...MOCK_AGENT };
};

async function signIn(password = MOCK_PASSWORD) {
  await userEvent.type(await screen.findByTestId("sign-in-agent"), MOCK_AGENT.code);
  await userEvent.type(screen.getByTestId("sign-in-password"), password);
  await userEvent.click(screen.getByTestId("sign-in-submit"));
}

describe("sign-in", () => {
  it("offers the remembered platform and says a wrong password plainly, then signs in", async () => {
    useLocale("zh-CN");
    const host = createMockHost({ queue: [queueItem("c1")], answers: { signIn: platformSignIn } });
    render(App, { props: { host } });
    await waitFor(() =>
      expect(screen.getByTestId("sign-in-platform")).toHaveValue("https://127.0.0.1:8443"),
    );
    await signIn("wrong");
    expect(await screen.findByRole("alert")).toHaveTextContent("工号或密码不对");
    expect(screen.getByTestId("sign-in-password")).toHaveValue("");

    await userEvent.type(screen.getByTestId("sign-in-password"), MOCK_PASSWORD);
    await userEvent.click(screen.getByTestId("sign-in-submit"));
    expect(await screen.findByTestId("signed-in-as")).toHaveTextContent("a1001");
    expect(await screen.findAllByTestId("queue-row")).toHaveLength(1);
  });

  it("says how long to wait when the platform takes no more sign-ins for a while", async () => {
    useLocale("zh-CN");
    let tries = 0;
    const throttled: Host["signIn"] = async () => {
      tries += 1;
      // The core's boundary shape, as the shell hands it over.
      throw tries === 1
        ? { code: "too_many_attempts", message: "too many failed sign-ins", retryAfterSeconds: 290 }
        : { code: "too_many_attempts", message: "too many failed sign-ins" };
    };
    const host = createMockHost({ answers: { signIn: throttled } });
    render(App, { props: { host } });
    await waitFor(() =>
      expect(screen.getByTestId("sign-in-platform")).toHaveValue("https://127.0.0.1:8443"),
    );
    await signIn();
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("登录失败的次数太多");
    expect(alert).toHaveTextContent("请 5 分钟后再登录");
    expect(alert).not.toHaveTextContent("工号或密码不对");
    expect(screen.getByTestId("sign-in-password")).toHaveValue("");

    // Without a wait from the platform it still says what happened.
    await userEvent.type(screen.getByTestId("sign-in-password"), MOCK_PASSWORD);
    await userEvent.click(screen.getByTestId("sign-in-submit"));
    await waitFor(() => expect(screen.getByRole("alert")).toHaveTextContent("请过一会儿再登录"));
  });

  it("says when the platform cannot be reached", async () => {
    useLocale("en");
    const host = createMockHost({ info: { locale: "en" }, answers: { signIn: platformSignIn } });
    render(App, { props: { host } });
    const platform = await screen.findByTestId("sign-in-platform");
    await waitFor(() => expect(platform).toHaveValue("https://127.0.0.1:8443"));
    await userEvent.clear(platform);
    await userEvent.type(platform, "http://example.com");
    await signIn();
    expect(await screen.findByRole("alert")).toHaveTextContent("Cannot reach the platform");
  });
});

describe("queue", () => {
  it("shows new work without a refresh, claims it, and colours the SLA", async () => {
    useLocale("zh-CN");
    const now = Date.now();
    const host = createMockHost({
      signedIn: MOCK_AGENT,
      queue: [
        queueItem("late", { customerName: "张建国", firstResponseDue: now - 60000 }),
        queueItem("soon", { customerName: "赵敏", firstResponseDue: now + 2 * 60000 }),
      ],
    });
    render(App, { props: { host } });
    const rows = await screen.findAllByTestId("queue-row");
    expect(rows).toHaveLength(2);
    const sla = screen.getAllByTestId("queue-sla");
    expect(sla[0]).toHaveClass("red");
    expect(sla[0]).toHaveTextContent("已超时");
    expect(sla[1]).toHaveClass("amber");

    host.answers.claim = async (id) =>
      host.update(id, { assignedTo: MOCK_AGENT.code, status: "active", pendingActions: 1 });
    host.answers.queue = async (scope) =>
      host.rows.filter((row) => scope !== "mine" || row.assignedTo === MOCK_AGENT.code);
    host.rows.push(queueItem("new", { customerName: "孙丽" }));
    host.send({ type: "changed" });
    await waitFor(() => expect(screen.getAllByTestId("queue-row")).toHaveLength(3));

    const row = screen
      .getAllByTestId("queue-row")
      .find((r) => r.getAttribute("data-conversation") === "new");
    await userEvent.click(within(row!).getByRole("button", { name: "领取孙丽的会话" }));
    await waitFor(() => expect(host.calls).toContain("claim:new"));
    await userEvent.click(screen.getByTestId("queue-scope-mine"));
    await waitFor(() => expect(screen.getAllByTestId("queue-row")).toHaveLength(1));
    expect(screen.getByText("正在提交")).toBeInTheDocument();
  });

  it("signs out back to the sign-in form", async () => {
    useLocale("zh-CN");
    const host = createMockHost({ signedIn: MOCK_AGENT });
    render(App, { props: { host } });
    await userEvent.click(await screen.findByTestId("sign-out"));
    expect(await screen.findByRole("heading", { name: "登录工作台" })).toBeInTheDocument();
    expect(host.calls).toContain("signOut");
  });

  it("has no axe-core violations on the sign-in form and the queue, in both languages", async () => {
    for (const language of ["zh-CN", "en"] as const) {
      useLocale(language);
      const info = { locale: language };
      const signedOut = render(App, { props: { host: createMockHost({ info }) } });
      await screen.findByTestId("sign-in-form");
      let results = await axe.run(signedOut.container, {
        rules: { "color-contrast": { enabled: false } },
      });
      expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
      signedOut.unmount();

      const signedIn = render(App, {
        props: { host: createMockHost({ info, signedIn: MOCK_AGENT, queue: [queueItem("c1")] }) },
      });
      await screen.findAllByTestId("queue-row");
      results = await axe.run(signedIn.container, {
        rules: { "color-contrast": { enabled: false } },
      });
      expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
      signedIn.unmount();
    }
  });
});

describe("conversation", () => {
  it("opens from the queue, shows the thread as text, keeps the draft, sends and resolves", async () => {
    useLocale("zh-CN");
    const host = createMockHost({
      signedIn: MOCK_AGENT,
      queue: [
        queueItem("c1", {
          assignedTo: MOCK_AGENT.code,
          status: "active",
          lastMessagePreview: "<img src=x onerror=alert(1)>桃子坏了",
        }),
      ],
    });
    render(App, { props: { host } });
    await userEvent.click(await screen.findByRole("button", { name: "打开李桂兰的会话" }));
    const thread = await screen.findByTestId("thread");
    // Customer text is text: the markup shows as characters, no element is made.
    expect(thread).toHaveTextContent("<img src=x onerror=alert(1)>桃子坏了");
    expect(thread.querySelector("img")).toBeNull();

    const composer = screen.getByLabelText("回复客户");
    expect(screen.getByTestId("composer-send")).toBeDisabled();
    host.answers.reply = async (id, body) => {
      host.messages[id] = [message(id, body)];
      host.send({ type: "changed" });
    };
    await userEvent.type(composer, "亲，麻烦拍张照片");
    await waitFor(() => expect(host.calls).toContain("saveDraft:c1:亲，麻烦拍张照片"), {
      timeout: 2000,
    });
    await userEvent.click(screen.getByTestId("composer-send"));
    await waitFor(() => expect(host.calls).toContain("reply:c1:亲，麻烦拍张照片:[]"));
    expect(await screen.findByTestId("message-pending")).toHaveTextContent("发送中");
    expect(composer).toHaveValue("");

    await userEvent.click(screen.getByTestId("wrap-up-start"));
    await userEvent.selectOptions(screen.getByTestId("disposition"), "exchange_arranged");
    await userEvent.click(screen.getByTestId("wrap-up-submit"));
    await waitFor(() =>
      expect(host.calls.some((c) => c.startsWith("wrapUp:c1:exchange_arranged:"))).toBe(true),
    );
    await waitFor(() => expect(screen.queryByTestId("conversation")).not.toBeInTheDocument());
  });

  it("has no axe-core violations with a conversation open", async () => {
    useLocale("en");
    const host = createMockHost({
      info: { locale: "en" },
      signedIn: MOCK_AGENT,
      queue: [queueItem("c1", { assignedTo: MOCK_AGENT.code, status: "active" })],
    });
    const { container } = render(App, { props: { host } });
    await userEvent.click(
      await screen.findByRole("button", { name: "Open the conversation with 李桂兰" }),
    );
    await screen.findByTestId("thread");
    await expectNoViolations(container);
  });
});

describe("knowledge panel", () => {
  it("searches as the agent types, in pinyin too, and opens the article", async () => {
    useLocale("zh-CN");
    const host = createMockHost({ signedIn: MOCK_AGENT, answers: deskAnswers() });
    host.answers.searchArticles = async (query) =>
      query === "tk"
        ? [{ id: "kb-refund", title: "生鲜坏果怎么退款", snippet: "…<mark>退款</mark>…", score: 2 }]
        : [];
    render(App, { props: { host } });
    const search = await screen.findByLabelText("搜索知识库");
    await userEvent.type(search, "tk");
    const hits = await screen.findAllByTestId("knowledge-hit");
    expect(hits).toHaveLength(1);
    const [first] = hits;
    if (!first) throw new Error("one hit expected");
    expect(first.querySelector("mark")).toHaveTextContent("退款");
    await userEvent.click(within(first).getByRole("button", { name: "生鲜坏果怎么退款" }));
    const article = await screen.findByTestId("knowledge-article");
    expect(article).toHaveTextContent("48 小时内");
    expect(article.querySelector("strong")).not.toBeNull();

    await userEvent.clear(search);
    await userEvent.type(search, "不存在的话题");
    expect(await screen.findByTestId("knowledge-none")).toHaveTextContent("没有找到");
  });
});

describe("knowledge panel, typing fast", () => {
  it("shows no error for a search the next keystroke superseded, and shows the next one's hits", async () => {
    useLocale("zh-CN");
    const host = createMockHost({ signedIn: MOCK_AGENT, answers: deskAnswers() });
    const asked: string[] = [];
    host.answers.searchArticles = async (query) => {
      asked.push(query);
      if (query === "退") throw new HostError("superseded", "a newer search took over");
      return [
        { id: "kb-refund", title: "生鲜坏果怎么退款", snippet: "<mark>退款</mark>", score: 2 },
      ];
    };
    render(App, { props: { host } });
    const search = await screen.findByLabelText("搜索知识库");
    await userEvent.type(search, "退");
    await waitFor(() => expect(asked).toContain("退"));
    await userEvent.type(search, "款");
    expect(await screen.findAllByTestId("knowledge-hit")).toHaveLength(1);
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });
});

describe("status and conflicts", () => {
  it("shows the last sync, asks to sign in again when the session ended, and explains refused actions", async () => {
    useLocale("zh-CN");
    const host = createMockHost({
      signedIn: MOCK_AGENT,
      connection: {
        state: "offline",
        pendingActions: 2,
        lastSyncAt: Date.now() - 60000,
        signInNeeded: true,
        problem: null,
        data: { today: 0, month: 0, budget: null, metered: false, warning: false },
        kbUpdateWaiting: null,
        kbUpdating: null,
        clockOffsetMs: 0,
      },
    });
    render(App, { props: { host } });
    expect(await screen.findByTestId("last-sync")).toHaveTextContent("上次同步");
    expect(screen.getByTestId("sign-in-needed")).toHaveTextContent("请重新登录");
    expect(screen.getByText("待发送 2 条")).toBeInTheDocument();

    Object.assign(host.answers, conflictAnswers([conflict(1)]));
    host.send({ type: "conflicts", count: 1 });
    const banner = await screen.findByTestId("conflict-banner");
    expect(banner).toHaveTextContent("有 1 条操作没能提交");
    await userEvent.click(within(banner).getByRole("button", { name: "知道了" }));
    expect(screen.queryByTestId("conflict-banner")).not.toBeInTheDocument();
  });

  it("gives a conversation back to the queue", async () => {
    useLocale("zh-CN");
    const host = createMockHost({
      signedIn: MOCK_AGENT,
      queue: [queueItem("c1", { assignedTo: MOCK_AGENT.code, status: "active" })],
    });
    host.answers.release = async (id) => host.update(id, { assignedTo: null, status: "queued" });
    render(App, { props: { host } });
    await userEvent.click(await screen.findByRole("button", { name: "打开李桂兰的会话" }));
    await userEvent.click(await screen.findByTestId("conversation-release"));
    await waitFor(() => expect(host.calls).toContain("release:c1"));
    expect(await screen.findByRole("button", { name: "领取李桂兰的会话" })).toBeInTheDocument();
  });
});

describe("canned replies", () => {
  it("opens with /, prefills what is known, and keeps a required field from being skipped", async () => {
    useLocale("zh-CN");
    const host = createMockHost({
      signedIn: MOCK_AGENT,
      queue: [queueItem("c1", { assignedTo: MOCK_AGENT.code, status: "active" })],
      answers: deskAnswers(),
    });
    render(App, { props: { host } });
    await userEvent.click(await screen.findByRole("button", { name: "打开李桂兰的会话" }));
    const composer = await screen.findByLabelText("回复客户");
    await userEvent.type(composer, "/sd");
    expect(screen.getByTestId("composer-send")).toBeDisabled();
    await userEvent.click(await screen.findByRole("button", { name: "/sd 稍等查询" }));

    const use = await screen.findByTestId("canned-use");
    expect(use).toBeDisabled();
    expect(screen.getByTestId("canned-preview")).toHaveTextContent("请先填好必填项");
    await userEvent.type(screen.getByTestId("canned-field-order_no"), "5188 2233");
    expect(screen.getByTestId("canned-preview")).toHaveTextContent(
      "亲，您的订单5188 2233我正在帮您查询",
    );
    await userEvent.click(use);
    expect(composer).toHaveValue("亲，您的订单5188 2233我正在帮您查询，请稍等1–2分钟哦～");
    await userEvent.click(screen.getByTestId("composer-send"));
    await waitFor(() =>
      expect(host.calls).toContain(
        "reply:c1:亲，您的订单5188 2233我正在帮您查询，请稍等1–2分钟哦～:[]",
      ),
    );
  });

  it("fills a date field with today, tomorrow or the day after in the customer's words", async () => {
    useLocale("zh-CN");
    const host = createMockHost({
      signedIn: MOCK_AGENT,
      queue: [queueItem("c1", { assignedTo: MOCK_AGENT.code, status: "active" })],
      answers: deskAnswers(),
    });
    render(App, { props: { host } });
    await userEvent.click(await screen.findByRole("button", { name: "打开李桂兰的会话" }));
    await userEvent.type(await screen.findByLabelText("回复客户"), "/fh");
    await userEvent.click(await screen.findByRole("button", { name: "/fh 预计发货时间" }));
    expect(await screen.findByTestId("canned-use")).toBeDisabled();
    await userEvent.click(screen.getByRole("button", { name: "明天" }));
    const tomorrow = new Date();
    tomorrow.setDate(tomorrow.getDate() + 1);
    const said = `${tomorrow.getMonth() + 1}月${tomorrow.getDate()}日`;
    expect(screen.getByTestId("canned-field-date")).toHaveValue(said);
    expect(screen.getByTestId("canned-preview")).toHaveTextContent(`预计${said}发出`);
    expect(screen.getByTestId("canned-use")).toBeEnabled();
  });

  it("fills the agent's own name", async () => {
    useLocale("zh-CN");
    const host = createMockHost({
      signedIn: MOCK_AGENT,
      queue: [queueItem("c1", { assignedTo: MOCK_AGENT.code, status: "active" })],
      answers: deskAnswers(),
    });
    render(App, { props: { host } });
    await userEvent.click(await screen.findByRole("button", { name: "打开李桂兰的会话" }));
    await userEvent.type(await screen.findByLabelText("回复客户"), "/nh");
    await userEvent.click(await screen.findByRole("button", { name: "/nh 开场问候" }));
    expect(await screen.findByTestId("canned-preview")).toHaveTextContent("我是王秀英");
    expect(screen.getByTestId("canned-use")).toBeEnabled();
  });
});

describe("presence and notes", () => {
  it("changes presence and writes an internal note instead of a reply", async () => {
    useLocale("zh-CN");
    const host = createMockHost({
      signedIn: MOCK_AGENT,
      queue: [queueItem("c1", { assignedTo: MOCK_AGENT.code, status: "active" })],
    });
    render(App, { props: { host } });
    const presence = await screen.findByLabelText("接待状态");
    await waitFor(() => expect(presence).toHaveValue("offline"));
    await userEvent.selectOptions(presence, "available");
    await waitFor(() => expect(host.calls).toContain("setPresence:available"));

    await userEvent.click(await screen.findByRole("button", { name: "打开李桂兰的会话" }));
    host.answers.note = async (id, body) => {
      host.messages[id] = [message(id, body, { kind: "note" })];
      host.send({ type: "changed" });
    };
    await userEvent.click(await screen.findByLabelText("写内部备注（客户看不到）"));
    await userEvent.type(screen.getByLabelText("回复客户"), "客户很着急");
    await userEvent.click(screen.getByTestId("composer-send"));
    await waitFor(() => expect(host.calls).toContain("note:c1:客户很着急"));
    expect(host.calls.some((c) => c.startsWith("reply:"))).toBe(false);
    expect(await screen.findByText("内部备注")).toBeInTheDocument();
  });
});

describe("offers", () => {
  it("shows an offered contact with the time left; accepting opens it, a withdrawn one goes away", async () => {
    useLocale("zh-CN");
    const host = createMockHost({
      signedIn: MOCK_AGENT,
      queue: [queueItem("c9", { customerName: "周芳" })],
    });
    render(App, { props: { host } });
    await screen.findAllByTestId("queue-row");
    host.send({
      type: "offer",
      offer_id: "o1",
      conversation_id: "c9",
      channel: "chat",
      queue: "aftersales",
      subject: "退款",
      expires_at: Date.now() + 20000,
    });
    const prompt = await screen.findByRole("alertdialog", { name: "有新的客户分配给你" });
    expect(prompt).toHaveTextContent("秒内接起");
    expect(within(prompt).getByRole("button", { name: "接起" })).toHaveFocus();
    await userEvent.click(within(prompt).getByRole("button", { name: "接起" }));
    await waitFor(() => expect(host.calls).toContain("acceptOffer:o1"));
    expect(await screen.findByTestId("conversation")).toBeInTheDocument();
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();

    host.send({
      type: "offer",
      offer_id: "o2",
      conversation_id: "c9",
      channel: "phone",
      queue: "aftersales",
      subject: "回电",
      expires_at: Date.now() + 20000,
    });
    await screen.findByRole("alertdialog");
    host.send({ type: "offer_withdrawn", offer_id: "o2" });
    await waitFor(() => expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument());
  });

  it("declines, and has no axe-core violations while an offer shows", async () => {
    useLocale("en");
    const host = createMockHost({ info: { locale: "en" }, signedIn: MOCK_AGENT });
    const { container } = render(App, { props: { host } });
    await screen.findByTestId("queue-empty");
    host.send({
      type: "offer",
      offer_id: "o3",
      conversation_id: "c1",
      channel: "ticket",
      queue: "aftersales",
      subject: "Parcel",
      expires_at: Date.now() + 20000,
    });
    await screen.findByRole("alertdialog");
    await expectNoViolations(container);
    await userEvent.click(screen.getByRole("button", { name: "Not this one" }));
    await waitFor(() => expect(host.calls).toContain("declineOffer:o3"));
  });
});
