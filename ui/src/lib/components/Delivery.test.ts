// The delivery tick on each of the agent's replies in the thread: a clock
// while the reply is in the outbox or queued on the platform, one tick sent,
// two ticks delivered, a red mark for failed whose reason shows on focus —
// each with words for screen readers, in Chinese and English, following the
// state as the platform moves it.
import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { message, type MockHost } from "../host/mock";
import type { Delivery, DeliveryState, ThreadMessage } from "../host";
import { expectNoViolations, openConversation } from "../testing/render";

const delivery = (state: DeliveryState, reason?: string): Delivery => ({
  state,
  updated_at: Date.now(),
  ...(reason ? { reason } : {}),
});

/** One reply in each state, plus messages that never get a tick. */
function thread(): ThreadMessage[] {
  const reply = (id: string, fields: Partial<ThreadMessage>) =>
    message("c1", `回复${id}`, { id, pending: false, ...fields });
  return [
    reply("r-pending", { pending: true }),
    reply("r-queued", { delivery: delivery("queued") }),
    reply("r-sent", { delivery: delivery("sent") }),
    reply("r-delivered", { delivery: delivery("delivered") }),
    reply("r-failed", { delivery: delivery("failed", "the adapter answered HTTP 503") }),
    reply("r-note", { kind: "note", delivery: null }),
    reply("r-practice", { delivery: null }),
  ];
}

/** The tick of the thread message whose body is `body`, or null. */
function tickOf(body: string): HTMLElement | null {
  const row = screen
    .getAllByTestId("thread-message")
    .find((li) => li.querySelector(".body")?.textContent === body);
  if (!row) throw new Error(`no thread message ${body}`);
  return within(row).queryByTestId("delivery");
}

describe("delivery ticks", () => {
  it("show each reply's state with words for screen readers, and follow the platform", async () => {
    const view = await openWith(thread());
    expect(tickOf("桃子收到就坏了，怎么办？"), "the customer's own message has no tick").toBeNull();
    expect(tickOf("回复r-pending")?.dataset.state).toBe("pending");
    expect(tickOf("回复r-pending")).toHaveTextContent("发送中");
    expect(tickOf("回复r-queued")).toHaveAttribute("data-state", "queued");
    expect(screen.getByRole("img", { name: "待发给客户" })).toBe(tickOf("回复r-queued"));
    expect(screen.getByRole("img", { name: "已发送" })).toBe(tickOf("回复r-sent"));
    expect(screen.getByRole("img", { name: "客户已收到" })).toBe(tickOf("回复r-delivered"));
    expect(tickOf("回复r-note"), "a note never goes to the customer").toBeNull();
    expect(tickOf("回复r-practice"), "a reply with no state (practice) has no tick").toBeNull();
    expect(tickOf("回复r-sent")?.querySelectorAll("path")).toHaveLength(1);
    expect(tickOf("回复r-delivered")?.querySelectorAll("path")).toHaveLength(2);

    const failed = screen.getByRole("button", { name: "发送失败" });
    expect(failed).toBe(tickOf("回复r-failed"));
    expect(failed).toHaveAccessibleDescription("原因：the adapter answered HTTP 503");
    failed.focus();
    expect(failed, "a keyboard user reaches the reason").toHaveFocus();
    await userEvent.click(failed);
    expect(failed).toHaveClass("open");
    await expectNoViolations(view.container);

    // The platform moves the queued reply on; the desk re-reads the thread.
    const moved = (state: DeliveryState) =>
      (view.host.messages.c1 = thread().map((m) =>
        m.id === "r-queued" ? { ...m, delivery: delivery(state) } : m,
      ));
    for (const state of ["sent", "delivered"] as const) {
      moved(state);
      view.host.send({ type: "changed" });
      await waitFor(() => expect(tickOf("回复r-queued")).toHaveAttribute("data-state", state));
    }
  });

  it("speak English too, and say when the reason is unknown", async () => {
    const messages = thread().map((m) =>
      m.id === "r-failed" ? { ...m, delivery: delivery("failed") } : m,
    );
    await openWith(messages, "en");
    expect(screen.getByRole("img", { name: "Waiting to go to the customer" })).toBeVisible();
    expect(screen.getByRole("img", { name: "Sent" })).toBeVisible();
    expect(screen.getByRole("img", { name: "Delivered to the customer" })).toBeVisible();
    expect(tickOf("回复r-pending")).toHaveTextContent("Sending");
    expect(screen.getByRole("button", { name: "Not delivered" })).toHaveAccessibleDescription(
      "Reason unknown; ask your supervisor",
    );
  });
});

/** Opens conversation c1, then the desk reports `messages` after its first one. */
async function openWith(
  messages: ThreadMessage[],
  language: "zh-CN" | "en" = "zh-CN",
): Promise<{ host: MockHost; container: HTMLElement }> {
  const view = await openConversation({}, "李桂兰", language);
  view.host.messages.c1 = messages;
  view.host.send({ type: "changed" });
  await waitFor(() =>
    expect(screen.getAllByTestId("thread-message")).toHaveLength(messages.length + 1),
  );
  return view;
}
