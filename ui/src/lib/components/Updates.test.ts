// Settings' "Updates" section and the agent bar's notice, against the mock
// host: what each update status shows, that "Install and restart" is
// disabled with its reason while work is unfinished, that a refused install
// says so in the agent's language, and that progress arrives as events.

import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import type { UpdateStatus } from "../host";
import { fails } from "../host/mock";
import { expectNoViolations, renderDesk } from "../testing/render";

const READY: UpdateStatus = {
  installedVersion: "1.0.0",
  support: "yes",
  lastCheckedAt: Date.UTC(2026, 9, 1, 8, 30),
  phase: { state: "ready", version: "1.1.0", notes: "订单页面打开更快了" },
  restartBlocked: null,
};

async function openUpdates(update: Partial<UpdateStatus>, language: "zh-CN" | "en" = "zh-CN") {
  const view = renderDesk({ update }, language);
  await userEvent.click(await screen.findByTestId("settings-open"));
  const section = await screen.findByTestId("update-section");
  await waitFor(() => expect(within(section).getByTestId("app-version").textContent).not.toBe("…"));
  return { ...view, section };
}

describe("the Updates section", () => {
  it("shows the installed version, the notes and an enabled install when nothing is unfinished", async () => {
    const { host, section } = await openUpdates(READY);
    expect(within(section).getByTestId("app-version").textContent).toBe("1.0.0");
    expect(within(section).getByTestId("update-notes").textContent).toBe("订单页面打开更快了");
    expect(within(section).getByTestId("update-status").textContent).toContain("1.1.0");
    const install = within(section).getByTestId("update-install") as HTMLButtonElement;
    expect(install.disabled).toBe(false);
    expect(within(section).queryByTestId("update-install-reason")).toBeNull();
    await userEvent.click(install);
    expect(host.calls).toContain("installUpdate");
    expect(within(section).getByTestId("update-status").textContent).toContain("正在安装");
    await expectNoViolations(section);
  });

  it("disables install with the reason while a conversation is open or a reply unsent", async () => {
    const { host, section } = await openUpdates({ ...READY, restartBlocked: "conversation_open" });
    const install = within(section).getByTestId("update-install") as HTMLButtonElement;
    expect(install.disabled, "no restart in the middle of a conversation").toBe(true);
    const reason = within(section).getByTestId("update-install-reason");
    expect(reason.textContent).toContain("没结束的会话");
    expect(install.getAttribute("aria-describedby")).toBe(reason.id);
    await userEvent.click(install);
    expect(host.calls).not.toContain("installUpdate");

    host.updated({ ...READY, restartBlocked: "reply_unsent" });
    await waitFor(() =>
      expect(within(section).getByTestId("update-install-reason").textContent).toContain(
        "回复没发出去",
      ),
    );
    host.updated(READY);
    await waitFor(() =>
      expect((within(section).getByTestId("update-install") as HTMLButtonElement).disabled).toBe(
        false,
      ),
    );
  });

  it("says in words when the core refuses the install, and the installed version stays", async () => {
    const { host, section } = await openUpdates(READY);
    host.answers.installUpdate = fails("restart_not_allowed");
    await userEvent.click(within(section).getByTestId("update-install"));
    const line = within(section).getByTestId("update-status");
    await waitFor(() => expect(line.textContent).toContain("现在还不能重启安装"));
    expect(line.getAttribute("role")).toBe("alert");
    expect(within(section).getByTestId("app-version").textContent).toBe("1.0.0");
  });

  it("shows a bad signature as a clear refusal with the detail for support", async () => {
    const { section } = await openUpdates({
      ...READY,
      phase: { state: "failed", code: "bad_signature", message: "InvalidSignature" },
    });
    const line = within(section).getByTestId("update-status");
    expect(line.textContent).toContain("签名对不上");
    expect(line.textContent).toContain("现在的版本照常能用");
    expect(line.getAttribute("role")).toBe("alert");
    expect(within(section).getByTestId("update-detail").textContent).toContain("InvalidSignature");
    expect(within(section).queryByTestId("update-install")).toBeNull();
  });

  it("checks on demand and shows the download's progress as a real progress bar", async () => {
    const { host, section } = await openUpdates({ ...READY, phase: { state: "none" } }, "en");
    await userEvent.click(within(section).getByTestId("update-check"));
    expect(host.calls).toContain("checkForUpdate");
    host.updated({
      ...READY,
      phase: { state: "downloading", version: "1.1.0", bytes: 512 * 1024, total: 2 * 1024 * 1024 },
    });
    const bar = (await within(section).findByTestId("update-progress")) as HTMLProgressElement;
    expect(bar.tagName).toBe("PROGRESS");
    expect(bar.value).toBe(512 * 1024);
    expect(bar.max).toBe(2 * 1024 * 1024);
    expect(within(section).getByTestId("update-status").textContent).toContain(
      "Downloading version 1.1.0: 512 KB of 2.0 MB",
    );
    expect((within(section).getByTestId("update-check") as HTMLButtonElement).disabled).toBe(true);
    host.updated({
      ...READY,
      phase: { state: "ready", version: "1.1.0", notes: "The order page opens faster" },
    });
    await waitFor(() =>
      expect(within(section).getByTestId("update-notes").textContent).toBe(
        "The order page opens faster",
      ),
    );
    expect(within(section).queryByTestId("update-progress")).toBeNull();
  });

  it("says a build without the release key cannot update and offers no check", async () => {
    const { host, section } = await openUpdates({ support: "no_key", installedVersion: "1.0.0" });
    expect(within(section).getByTestId("update-status").textContent).toContain("不能自己更新");
    expect((within(section).getByTestId("update-check") as HTMLButtonElement).disabled).toBe(true);
    expect(host.calls).not.toContain("checkForUpdate");
  });
});

describe("the agent bar", () => {
  it("shows a quiet notice once an update is ready, which opens Settings", async () => {
    const { host } = renderDesk({ update: { ...READY, phase: { state: "none" } } });
    await screen.findByTestId("signed-in-as");
    expect(screen.queryByTestId("update-ready-notice")).toBeNull();
    host.updated(READY);
    const notice = await screen.findByTestId("update-ready-notice");
    expect(notice.textContent).toContain("1.1.0");
    await userEvent.click(notice);
    expect(await screen.findByTestId("update-section")).toBeTruthy();
  });
});
