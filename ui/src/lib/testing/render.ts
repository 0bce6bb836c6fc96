// The one way the UI tests start the desk: a small mock host, the language
// set, the real App rendered; plus the queue rows, the conversation opened
// from the queue and the accessibility check most tests share. A test file
// keeps only what is its own.

import { expect } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import App from "../../App.svelte";
import { MOCK_AGENT, createMockHost, type MockHostOptions } from "../host/mock";
import { deskAnswers, rowAnswers } from "../host/mock-data";
import type { Locale, QueueItem } from "../host";
import { useLocale } from "../i18n/index.svelte";

/** A queue row waiting for an agent; `overrides` say what differs. */
export function queueItem(id: string, overrides: Partial<QueueItem> = {}): QueueItem {
  const now = Date.now();
  return {
    id,
    channel: "chat",
    queue: "aftersales",
    subject: "退款",
    customerName: "李桂兰",
    status: "queued",
    assignedTo: null,
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

/** A row the signed-in agent is working on. */
export const myItem = (id: string, overrides: Partial<QueueItem> = {}): QueueItem =>
  queueItem(id, { assignedTo: MOCK_AGENT.code, status: "active", ...overrides });

export interface DeskOptions extends MockHostOptions {
  /** Start at the sign-in form; otherwise a resumed session of `MOCK_AGENT` (unless `signedIn` says another). */
  signedOut?: boolean;
  /** The host answers conversation calls as the desk does (`deskAnswers`, under `answers`). */
  desk?: boolean;
  /** Claims, releases and wrap-ups change the host's rows (`rowAnswers`). */
  rows?: boolean;
}

/** Renders the App against a mock host in `language` (also the one saved on disk). */
export function renderDesk(options: DeskOptions = {}, language: Locale = "zh-CN") {
  const { signedOut = false, desk = false, rows = false, ...hostOptions } = options;
  useLocale(language);
  const host = createMockHost({
    ...(signedOut ? {} : { signedIn: MOCK_AGENT }),
    info: { locale: language },
    ...hostOptions,
    ...(desk ? { answers: { ...deskAnswers(), ...hostOptions.answers } } : {}),
  });
  if (rows) rowAnswers(host);
  return { host, ...render(App, { props: { host } }) };
}

/**
 * Signs in (a resumed session), opens the conversation with `customer` from
 * the queue (by default one row of the agent's, `c1`) and waits for its thread.
 */
export async function openConversation(
  options: DeskOptions = {},
  customer = "李桂兰",
  language: Locale = "zh-CN",
) {
  const view = renderDesk({ desk: true, queue: [myItem("c1")], ...options }, language);
  const name =
    language === "zh-CN" ? `打开${customer}的会话` : `Open the conversation with ${customer}`;
  await userEvent.click(await screen.findByRole("button", { name }));
  await screen.findByTestId("thread");
  return view;
}

/** Serious and critical axe findings (colour contrast cannot be computed in jsdom). */
export async function seriousViolations(container: HTMLElement = document.body) {
  const results = await axe.run(container, { rules: { "color-contrast": { enabled: false } } });
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

/** All axe findings, as `id: help` lines, expected to be none. */
export async function expectNoViolations(container: HTMLElement) {
  const results = await axe.run(container, { rules: { "color-contrast": { enabled: false } } });
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}
