// When the platform sets the agent on a break because offers ran out
// unanswered, the presence picker follows and a short notice says why, in
// the interface language, until the agent chooses a presence again.

import { describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import App from "../../App.svelte";
import { MOCK_AGENT, createMockHost } from "../host/mock";
import { useLocale } from "../i18n/index.svelte";
import { renderDesk } from "../testing/render";

describe("presence set by the platform", () => {
  for (const [locale, text] of [
    ["zh-CN", "连续 2 次没接，已帮你切换为小休；准备好了再切回空闲可接待。"],
    [
      "en",
      "2 offers in a row went unanswered, so you were set to On break. Switch back to Available when you're ready.",
    ],
  ] as const) {
    it(`says why in ${locale}, and the agent's own choice clears it`, async () => {
      const { host } = renderDesk({}, locale);
      const picker = (await screen.findByTestId("presence")) as HTMLSelectElement;
      expect(screen.queryByTestId("presence-reason")).toBeNull();

      // Sent until the page listens (it subscribes once the desk is up).
      await waitFor(() => {
        host.send({
          type: "presence",
          presence: "on_break",
          reason: { code: "missed_offers", count: 2 },
        });
        expect(screen.getByTestId("presence-reason")).toHaveTextContent(text);
      });
      const notice = screen.getByTestId("presence-reason");
      expect(notice).toHaveAttribute("role", "status");
      expect(picker.value).toBe("on_break");

      await userEvent.selectOptions(picker, "available");
      await waitFor(() => expect(screen.queryByTestId("presence-reason")).toBeNull());
    });
  }

  for (const [locale, text] of [
    ["zh-CN", "主管把你设为了小休"],
    ["en", "Your supervisor set you on a break"],
  ] as const) {
    it(`says a supervisor set the agent on a break, in ${locale}`, async () => {
      const { host } = renderDesk({}, locale);
      const picker = (await screen.findByTestId("presence")) as HTMLSelectElement;
      await waitFor(() => {
        host.send({
          type: "presence",
          presence: "on_break",
          reason: { code: "set_by_supervisor" },
        });
        expect(screen.getByTestId("presence-reason")).toHaveTextContent(text);
      });
      expect(picker.value).toBe("on_break");
    });
  }

  it("follows a change without a reason and shows no notice", async () => {
    useLocale("zh-CN");
    const host = createMockHost({ signedIn: MOCK_AGENT });
    render(App, { props: { host } });
    const picker = (await screen.findByTestId("presence")) as HTMLSelectElement;
    await waitFor(() => {
      host.send({ type: "presence", presence: "busy", reason: null });
      expect(picker.value).toBe("busy");
    });
    expect(screen.queryByTestId("presence-reason")).toBeNull();
  });
});
