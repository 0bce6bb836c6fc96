// The shell page against the mock host: Chinese by default, English on
// request, errors said in the agent's language, no accessibility violations.
import { describe, expect, it } from "vitest";
import { screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { MOCK_AGENT, fails } from "./lib/host/mock";
import { expectNoViolations, renderDesk } from "./lib/testing/render";

describe("shell page", () => {
  it("shows the Chinese title, offline state and the sign-in form by default", async () => {
    renderDesk({ signedOut: true });
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("居家客服工作台");
    expect(await screen.findByTestId("connection-state")).toHaveTextContent("离线");
    expect(screen.getByText("待发送 0 条")).toBeInTheDocument();
    expect(await screen.findByRole("heading", { name: "登录工作台" })).toBeInTheDocument();
    expect(document.documentElement.lang).toBe("zh-CN");
  });

  it("goes straight to the empty queue when a saved session was resumed", async () => {
    renderDesk({ signedOut: true, signedIn: MOCK_AGENT });
    expect(await screen.findByTestId("queue-empty")).toHaveTextContent("暂时没有会话");
    expect(screen.getByTestId("signed-in-as")).toHaveTextContent("王秀英");
  });

  it("starts in the language saved on disk", async () => {
    renderDesk({ signedOut: true, info: { locale: "en" } });
    await waitFor(() =>
      expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Homedesk Agent Desk"),
    );
    expect(document.documentElement.lang).toBe("en");
  });

  it("switches to English, saves the choice through the host and marks the pressed button", async () => {
    const { host } = renderDesk({ signedOut: true });
    await screen.findByTestId("connection-state");
    await userEvent.click(screen.getByRole("button", { name: "English" }));

    await waitFor(() =>
      expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Homedesk Agent Desk"),
    );
    expect(screen.getByTestId("connection-state")).toHaveTextContent("Offline");
    expect(screen.getByRole("button", { name: "English" })).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByRole("button", { name: "中文" })).toHaveAttribute("aria-pressed", "false");
    expect(host.calls).toContain("setLocale:en");
    expect(document.documentElement.lang).toBe("en");
  });

  it("keeps the current language and explains in Chinese when saving fails", async () => {
    renderDesk({
      signedOut: true,
      answers: { setLocale: fails("storage", "cannot save settings.json") },
    });
    await screen.findByTestId("connection-state");
    await userEvent.click(screen.getByRole("button", { name: "English" }));

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("保存失败");
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("居家客服工作台");

    await userEvent.click(screen.getByRole("button", { name: "知道了" }));
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("is reachable by keyboard alone", async () => {
    renderDesk({ signedOut: true });
    await screen.findByTestId("connection-state");
    await userEvent.tab();
    expect(screen.getByRole("button", { name: "中文" })).toHaveFocus();
    await userEvent.tab();
    expect(screen.getByRole("button", { name: "English" })).toHaveFocus();
    await userEvent.keyboard("{Enter}");
    await waitFor(() =>
      expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Homedesk Agent Desk"),
    );
  });

  it("has no axe-core accessibility violations in either language", async () => {
    const { container } = renderDesk({ signedOut: true });
    await screen.findByTestId("connection-state");
    for (const language of ["中文", "English"]) {
      await userEvent.click(screen.getByRole("button", { name: language }));
      await expectNoViolations(container);
    }
  });
});
