// A conversation that is not on this PC (outside the sync scope: older
// history, a colleague's) opens from the platform, read-only; offline it
// says so in the agent's language, and an unknown one says it cannot open.
import { afterEach, describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/svelte";
import ConversationView from "./ConversationView.svelte";
import { createMockHost, detailOf, fails, type Answers } from "../host/mock";
import { useLocale } from "../i18n/index.svelte";
import { myItem } from "../testing/render";

afterEach(() => useLocale("zh-CN"));

function view(answers: Answers) {
  const host = createMockHost({ answers: { conversation: async () => null, ...answers } });
  render(ConversationView, { host, conversationId: "conv-old", onclose: () => {} });
  return host;
}

describe("a conversation that is not on this PC", () => {
  it("opens from the platform, read-only", async () => {
    const old = detailOf(myItem("conv-old", { subject: "上个月的退款", assignedTo: "a1003" }));
    const host = view({ openConversation: async () => old });
    expect(await screen.findByText(/上个月的退款/)).toBeTruthy();
    expect(host.calls).toContain("openConversation:conv-old");
    expect(
      screen.queryByTestId("conversation-release"),
      "nothing to answer from this PC: no release, no composer",
    ).toBeNull();
    expect(screen.queryByRole("textbox")).toBeNull();
  });

  it("shows the text a refusal gave back, to copy", async () => {
    const taken = detailOf(myItem("conv-old", { assignedTo: "a1003" }));
    taken.draft = "亲，我帮您查一下物流";
    view({ openConversation: async () => taken });
    await waitFor(() =>
      expect(screen.getByTestId("conversation-kept-text").textContent).toContain(
        "亲，我帮您查一下物流",
      ),
    );
  });

  it("says plainly when there is no network", async () => {
    view({ openConversation: fails("unreachable") });
    await waitFor(() =>
      expect(screen.getByTestId("conversation-remote").textContent).toContain(
        "没有网络，暂时打不开这段历史记录",
      ),
    );
  });

  it("says in English when it cannot be opened at all", async () => {
    useLocale("en");
    view({ openConversation: fails("not_found") });
    await waitFor(() =>
      expect(screen.getByTestId("conversation-remote").textContent).toContain(
        "This conversation cannot be opened",
      ),
    );
  });

  it("an open conversation that leaves this PC keeps its composer, with the refused text", async () => {
    const item = myItem("conv-old", { subject: "快递三天没动了" });
    const host = createMockHost({ queue: [item] });
    const props = { host, conversationId: "conv-old", onclose: () => {}, version: 0 };
    const { rerender } = render(ConversationView, props);
    expect(await screen.findByTestId("composer-body")).toBeTruthy();
    const taken = detailOf({ ...item, assignedTo: "a1001" });
    taken.draft = "亲，我帮您查一下物流";
    host.answers.openConversation = async () => taken;
    host.update("conv-old", null);
    // The desk bumps `version` on every change the core reports.
    await rerender({ ...props, version: 1 });
    await waitFor(() =>
      expect((screen.getByTestId("composer-body") as HTMLTextAreaElement).value).toBe(
        "亲，我帮您查一下物流",
      ),
    );
    expect(host.calls).toContain("openConversation:conv-old");
    expect(screen.queryByTestId("conversation-remote")).toBeNull();
  });
});
