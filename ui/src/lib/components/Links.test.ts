// Links in knowledge-base articles never navigate the app's window: a web
// address opens in the system browser only after the agent saw the full
// address and said yes; cancel opens nothing; other schemes never open
// (docs/decisions/0034-links-open-outside-the-app.md).
import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import type { ArticleView } from "../host";
import { fails } from "../host/mock";
import { renderDesk, seriousViolations } from "../testing/render";
import type { Locale } from "../host";

const SITE = "https://www.12315.cn/";

const ARTICLE: ArticleView = {
  id: "kb-zh-links",
  locale: "zh-CN",
  title: "客户说要打12315投诉",
  // As the core sends it: sanitized by ammonia, rel added.
  html:
    `<p>全国12315平台：<a href="${SITE}" rel="noopener noreferrer">在线投诉</a></p>` +
    `<p>邮件：<a href="mailto:help@example.com" rel="noopener noreferrer">写信</a></p>`,
  tags: ["12315"],
  category: "complaints",
  updated_at: 0,
};

async function openArticle(language: Locale = "zh-CN") {
  const view = renderDesk(
    {
      answers: {
        searchArticles: async () => [
          { id: ARTICLE.id, title: ARTICLE.title, snippet: "…<mark>12315</mark>…", score: 2 },
        ],
        article: async () => structuredClone(ARTICLE),
      },
    },
    language,
  );
  await userEvent.type(await screen.findByTestId("knowledge-search"), "12315");
  const hit = await screen.findByTestId("knowledge-hit");
  await userEvent.click(within(hit).getByRole("button"));
  const article = await screen.findByTestId("knowledge-article");
  return { ...view, article };
}

/** Clicks `link` as a person would; true when the app stopped the navigation. */
function follow(link: HTMLElement): boolean {
  const click = new MouseEvent("click", { bubbles: true, cancelable: true, button: 0 });
  link.dispatchEvent(click);
  return click.defaultPrevented;
}

const opened = (calls: string[]) => calls.filter((c) => c.startsWith("openLink"));

describe("links in articles", () => {
  it("asks with the full address before a web link opens, and cancel opens nothing", async () => {
    const { host, article } = await openArticle();
    const link = within(article).getByRole("link", { name: "在线投诉" });

    expect(follow(link), "the click must not navigate the window").toBe(true);
    const dialog = await screen.findByRole("dialog", { name: "在浏览器里打开这个网址？" });
    expect(within(dialog).getByTestId("link-address")).toHaveTextContent(SITE);
    expect(opened(host.calls), "nothing opens before the agent says so").toEqual([]);

    await userEvent.click(within(dialog).getByTestId("link-cancel"));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(opened(host.calls), "cancel opens nothing").toEqual([]);

    // Esc is a cancel too.
    follow(link);
    await screen.findByTestId("link-dialog");
    await userEvent.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByTestId("link-dialog")).toBeNull());
    expect(opened(host.calls)).toEqual([]);
  });

  it("opens the confirmed address in the browser through the host, once", async () => {
    const { host, article } = await openArticle();
    follow(within(article).getByRole("link", { name: "在线投诉" }));
    const dialog = await screen.findByTestId("link-dialog");
    await userEvent.click(within(dialog).getByTestId("link-open"));
    await waitFor(() => expect(screen.queryByTestId("link-dialog")).toBeNull());
    expect(opened(host.calls)).toEqual([`openLink:${SITE}`]);
  });

  it("never opens a link that is not a web address, and says so", async () => {
    const { host, article } = await openArticle();
    const mail = within(article).getByRole("link", { name: "写信" });
    expect(follow(mail), "the click must not navigate the window").toBe(true);
    expect(await screen.findByTestId("kb-link-refused")).toHaveTextContent("http 或 https");
    expect(screen.queryByTestId("link-dialog"), "no dialog for a mailto: link").toBeNull();
    expect(opened(host.calls)).toEqual([]);
  });

  it("keeps the dialog with the reason when the browser cannot be started", async () => {
    const { host, article } = await openArticle();
    host.answers.openLink = fails("invalid_input", "no web browser could be started");
    follow(within(article).getByRole("link", { name: "在线投诉" }));
    const dialog = await screen.findByTestId("link-dialog");
    await userEvent.click(within(dialog).getByTestId("link-open"));
    expect(await within(dialog).findByTestId("error-banner")).toBeInTheDocument();
    expect(screen.getByTestId("link-dialog"), "the dialog stays to say why").toBeInTheDocument();
  });

  it.each<[Locale, string]>([
    ["zh-CN", "在浏览器里打开这个网址？"],
    ["en", "Open this address in the browser?"],
  ])("has no serious accessibility findings (%s)", async (language, title) => {
    const { article } = await openArticle(language);
    follow(within(article).getAllByRole("link")[0]!);
    await screen.findByRole("dialog", { name: title });
    expect(await seriousViolations()).toEqual([]);
  });
});
