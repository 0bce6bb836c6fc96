// A colleague's internal note that mentions the agent (`@a1002`): the desk
// says who and where, in the interface language, with a way to open the
// conversation; the OS's stand-in for the same mention adds nothing, and
// an agent who turned notifications off gets none. A supervisor on the team
// console opens it read-only there.
import { describe, expect, it } from "vitest";
import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import App from "../../App.svelte";
import { createMockHost } from "../host/mock";
import { MOCK_SUPERVISOR, consoleAnswers } from "../host/mock-console";
import type { DeskEvent } from "../host";
import { useLocale } from "../i18n/index.svelte";
import { myItem, renderDesk } from "../testing/render";

const mention: DeskEvent = {
  type: "mentioned",
  conversation_id: "c1",
  subject: "橙子坏了三个",
  by: "s3001",
  preview: "@a1001 客户等了快两分钟了，先回一句",
};

describe("a note that mentions the agent", () => {
  for (const [language, title] of [
    ["zh-CN", "s3001 在「橙子坏了三个」的内部备注里提到了你"],
    ["en", 's3001 mentioned you in an internal note on "橙子坏了三个"'],
  ] as const) {
    it(`is shown with who and where, and opens the conversation (${language})`, async () => {
      const { host } = renderDesk({ desk: true, queue: [myItem("c1")] }, language);
      await screen.findAllByTestId("queue-row");
      // Sent until the page listens (it subscribes once the desk is up).
      await waitFor(() => {
        host.send(mention);
        expect(screen.getByTestId("mention-notice")).toBeInTheDocument();
      });
      const notice = screen.getByTestId("mention-notice");
      expect(notice).toHaveTextContent(title);
      expect(notice).toHaveTextContent("客户等了快两分钟了");
      expect(screen.getAllByTestId("mention-notice"), "one notice for one mention").toHaveLength(1);

      await userEvent.click(within(notice).getByTestId("notice-open"));
      expect(await screen.findByTestId("thread")).toBeInTheDocument();
      expect(screen.queryByTestId("mention-notice")).toBeNull();
    });
  }

  it("is not shown twice when the OS could not show it either", async () => {
    const { host } = renderDesk({ queue: [myItem("c1")] });
    await screen.findAllByTestId("queue-row");
    await waitFor(() => {
      host.send(mention);
      expect(screen.getByTestId("mention-notice")).toBeInTheDocument();
    });
    host.notice({
      kind: "mention",
      conversationId: "c1",
      title: "s3001 在内部备注里提到了你",
      body: "",
    });
    host.notice({ kind: "message", conversationId: "c1", title: "李桂兰发来新消息", body: "在吗" });
    await screen.findByTestId("notice");
    expect(screen.getAllByTestId("mention-notice")).toHaveLength(1);
    expect(screen.getAllByTestId("notice"), "the message still shows").toHaveLength(1);
  });

  it("shows nothing when the agent turned notifications off", async () => {
    const { host } = renderDesk({ queue: [myItem("c1")], preferences: { notifications: false } });
    await screen.findAllByTestId("queue-row");
    host.send(mention);
    host.send({ type: "changed" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen.queryByTestId("mention-notice")).toBeNull();
  });

  it("opens read-only in the team console for a supervisor", async () => {
    useLocale("zh-CN");
    const host = createMockHost({ signedIn: MOCK_SUPERVISOR });
    consoleAnswers(host);
    render(App, { props: { host } });
    await screen.findAllByTestId("team-agent-row");
    await waitFor(() => {
      host.send({
        ...mention,
        conversation_id: "conv-2035",
        subject: "退款一直没到账",
        by: "a1001",
      });
      expect(screen.getByTestId("mention-notice")).toBeInTheDocument();
    });
    await userEvent.click(screen.getByTestId("notice-open"));
    const panel = await screen.findByTestId("console-conversation");
    expect(await within(panel).findByText("退款显示成功了，钱一直没到账")).toBeInTheDocument();
    expect(screen.getByTestId("console")).toBeInTheDocument();
  });
});
