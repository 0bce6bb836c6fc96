// Photos in the conversation against the mock host: thumbnails in the
// thread come from the media scheme, open the full photo in a viewer
// (keyboard too, Esc closes), say when they are loading or could not load
// and try again; the composer attaches a photo through a file chooser,
// shows the core's refusal by its code, and sends the photos with the
// reply (never with a note). The images' bytes are the core's and the
// shell's (tested in Rust); here no image ever loads: the tests fire the
// image's own load and error events.
import { describe, expect, it } from "vitest";
import { fireEvent, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { MOCK_AGENT, fails } from "../host/mock";
import type { Attachment, ThreadMessage } from "../host";
import { openConversation, seriousViolations } from "../testing/render";

const photo = (n: number): Attachment => ({
  id: String(n).padStart(2, "0").repeat(32),
  media_type: "image/jpeg",
  bytes: 200_000,
  width: 1200,
  height: 900,
});

/** A customer message carrying `photos`, after the row's first message. */
function customerPhotos(photos: Attachment[]): Record<string, ThreadMessage[]> {
  return {
    c1: [
      {
        id: "c1-photos",
        conversation_id: "c1",
        author: "customer",
        agent: null,
        kind: "text",
        body: "您看，桃子都烂了",
        sent_at: Date.now() - 30_000,
        attachments: photos,
        delivery: null,
        pending: false,
      },
    ],
  };
}

async function openWithPhotos(photos: Attachment[], language: "zh-CN" | "en" = "zh-CN") {
  const view = await openConversation(
    {
      answers: {},
    },
    "李桂兰",
    language,
  );
  view.host.messages = customerPhotos(photos);
  view.host.send({ type: "changed" });
  await screen.findAllByTestId("photo-thumb");
  return view;
}

const image = (button: HTMLElement) => button.querySelector("img") as HTMLImageElement;

describe("photos in the thread", () => {
  it("shows each thumbnail from the media scheme with alt text, and says it is loading until it is", async () => {
    await openWithPhotos([photo(1), photo(2)]);
    const thumbs = screen.getAllByTestId("photo-thumb");
    expect(thumbs.map((t) => image(t).getAttribute("src"))).toEqual([
      `mock-media/thumb/${photo(1).id}`,
      `mock-media/thumb/${photo(2).id}`,
    ]);
    expect(image(thumbs[0]!).alt).toBe("客户发来的图片（第 1 张，共 2 张）");
    expect(thumbs[0]).toHaveAttribute("aria-busy", "true");
    expect(thumbs[0]).toHaveTextContent("加载中…");
    await fireEvent.load(image(thumbs[0]!));
    expect(thumbs[0]).toHaveAttribute("aria-busy", "false");
    expect(thumbs[0]).not.toHaveTextContent("加载中…");
  });

  it("opens the full photo by keyboard, says it is loading, and Esc closes it back to the thumbnail", async () => {
    await openWithPhotos([photo(1), photo(2)]);
    const second = screen.getAllByTestId("photo-thumb")[1]!;
    second.focus();
    await userEvent.keyboard("{Enter}");
    const viewer = await screen.findByTestId("photo-viewer");
    const full = within(viewer).getByTestId("photo-viewer-image") as HTMLImageElement;
    expect(full.getAttribute("src")).toBe(`mock-media/full/${photo(2).id}`);
    expect(full.alt).toBe("客户发来的图片（第 2 张，共 2 张）");
    expect(within(viewer).getByRole("status")).toHaveTextContent("正在加载原图…");
    await fireEvent.load(full);
    expect(within(viewer).queryByRole("status")).toBeNull();
    // ← shows the message's other photo.
    await userEvent.keyboard("{ArrowLeft}");
    expect(within(viewer).getByTestId("photo-viewer-image").getAttribute("src")).toBe(
      `mock-media/full/${photo(1).id}`,
    );
    await userEvent.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByTestId("photo-viewer")).toBeNull());
    await waitFor(() => expect(document.activeElement).toBe(second));
  });

  it("says a full photo could not load and loads it again on retry", async () => {
    await openWithPhotos([photo(3)]);
    await userEvent.click(screen.getByTestId("photo-thumb"));
    const viewer = await screen.findByTestId("photo-viewer");
    await fireEvent.error(within(viewer).getByTestId("photo-viewer-image"));
    expect(await within(viewer).findByRole("alert")).toHaveTextContent(
      "原图没加载出来：可能现在没网。等联网了再点一次重试。",
    );
    await waitFor(() =>
      expect(document.activeElement).toBe(within(viewer).getByTestId("photo-viewer-retry")),
    );
    await userEvent.keyboard("{Enter}");
    expect(within(viewer).getByTestId("photo-viewer-image").getAttribute("src")).toBe(
      `mock-media/full/${photo(3).id}?retry=1`,
    );
    expect(within(viewer).getByRole("status")).toHaveTextContent("正在加载原图…");
  });

  it("says a thumbnail could not load, retries on the button and again when the desk reports news", async () => {
    const { host } = await openWithPhotos([photo(4)]);
    await fireEvent.error(image(screen.getByTestId("photo-thumb")));
    expect(screen.getByTestId("photo-failed")).toHaveTextContent("图片没加载出来");
    await userEvent.click(
      screen.getByRole("button", { name: "重新加载：客户发来的图片（第 1 张，共 1 张）" }),
    );
    expect(image(screen.getByTestId("photo-thumb")).getAttribute("src")).toBe(
      `mock-media/thumb/${photo(4).id}?retry=1`,
    );
    await fireEvent.error(image(screen.getByTestId("photo-thumb")));
    expect(screen.getByTestId("photo-failed")).toBeInTheDocument();
    // The sync fetched it meanwhile: the desk says something changed.
    host.send({ type: "changed" });
    await waitFor(() =>
      expect(image(screen.getByTestId("photo-thumb")).getAttribute("src")).toBe(
        `mock-media/thumb/${photo(4).id}?retry=2`,
      ),
    );
  });

  it("has no serious accessibility findings with photos and the viewer open, in English too", async () => {
    const { container } = await openWithPhotos([photo(5), photo(6)], "en");
    expect(image(screen.getAllByTestId("photo-thumb")[0]!).alt).toBe(
      "Photo 1 of 2 from the customer",
    );
    await fireEvent.error(image(screen.getAllByTestId("photo-thumb")[1]!));
    expect(await seriousViolations(container)).toEqual([]);
    await userEvent.click(screen.getAllByTestId("photo-thumb")[0]!);
    await screen.findByTestId("photo-viewer");
    expect(await seriousViolations()).toEqual([]);
  });
});

describe("sending a photo", () => {
  const jpeg = () =>
    new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])], "size-chart.jpg", {
      type: "image/jpeg",
    });

  it("attaches the chosen file, shows it from the PC and sends it with the reply, text or not", async () => {
    const { host } = await openConversation();
    const send = screen.getByTestId("composer-send");
    expect(send).toBeDisabled();
    await userEvent.upload(screen.getByTestId("composer-photo-input"), jpeg());
    const attached = await screen.findByTestId("composer-photos");
    const shown = within(attached).getByRole("img");
    const id = host.photos.c1![0]!.id;
    expect(host.calls).toContain(
      `attachPhoto:c1:${JSON.stringify({ 0: 255, 1: 216, 2: 255, 3: 224, 4: 1, 5: 2, 6: 3 })}`,
    );
    expect(shown.getAttribute("src")).toBe(`mock-media/local/${id}`);
    expect(shown).toHaveAccessibleName("准备发送的图片（第 1 张，共 1 张）");
    // A photo alone can be sent.
    expect(send).toBeEnabled();
    await userEvent.click(send);
    await waitFor(() => expect(host.calls).toContain(`reply:c1::${JSON.stringify([id])}`));
    await waitFor(() => expect(screen.queryByTestId("composer-photos")).toBeNull());
  });

  it("takes a photo off again, and never sends photos with an internal note", async () => {
    const { host } = await openConversation();
    await userEvent.upload(screen.getByTestId("composer-photo-input"), jpeg());
    await screen.findByTestId("composer-photos");
    await userEvent.click(screen.getByTestId("composer-as-note"));
    expect(screen.getByTestId("composer-photo")).toBeDisabled();
    expect(screen.getByText("内部备注不能带图片")).toBeInTheDocument();
    expect(screen.getByTestId("composer-send")).toBeDisabled();
    await userEvent.click(screen.getByTestId("composer-as-note"));
    await userEvent.click(screen.getByRole("button", { name: "去掉第 1 张图片" }));
    await waitFor(() => expect(screen.queryByTestId("composer-photos")).toBeNull());
    expect(host.calls.filter((c) => c.startsWith("removePhoto:c1:local-"))).toHaveLength(1);
    expect(document.activeElement).toBe(screen.getByTestId("composer-photo"));
  });

  it("says plainly why a file cannot go, and attaches nothing", async () => {
    const { host } = await openConversation({
      answers: { attachPhoto: fails("photo_too_large") },
    });
    await userEvent.upload(screen.getByTestId("composer-photo-input"), jpeg());
    expect(await screen.findByTestId("error-banner")).toHaveTextContent(
      "图片太大了，发不了：最大 5 MB、4000 万像素。可以先压缩一下或者截个图再发。",
    );
    expect(screen.queryByTestId("composer-photos")).toBeNull();
    host.answers.attachPhoto = fails("photo_unsupported");
    await userEvent.click(screen.getByText("知道了"));
    await userEvent.upload(screen.getByTestId("composer-photo-input"), jpeg());
    expect(await screen.findByTestId("error-banner")).toHaveTextContent(
      "这个文件不能当图片发：只能发 JPEG、PNG 或 WebP 格式的图片。",
    );
  });
});

describe("photos in practice", () => {
  it("offers no photo button to a trainee: the practice customer reads text only", async () => {
    await openConversation({ signedIn: { ...MOCK_AGENT, practice: true } });
    expect(screen.getByTestId("composer-body")).toBeInTheDocument();
    expect(screen.queryByTestId("composer-photo")).toBeNull();
    expect(screen.queryByTestId("composer-photo-input")).toBeNull();
  });
});

describe("a canned reply with a photo", () => {
  it("shows the photo it carries, and using it attaches that photo beside the text", async () => {
    const { host } = await openConversation();
    const composer = screen.getByLabelText("回复客户");
    await userEvent.type(composer, "/cmb");
    await userEvent.click(await screen.findByRole("button", { name: "/cmb 发尺码表（带图）" }));
    const preview = await screen.findByTestId("canned-photo");
    const chart = "5a".repeat(32);
    expect(within(preview).getByRole("img")).toHaveAccessibleName(
      "快捷回复“发尺码表（带图）”附带的图片",
    );
    expect(within(preview).getByRole("img").getAttribute("src")).toBe(`mock-media/thumb/${chart}`);
    await userEvent.click(screen.getByTestId("canned-use"));
    const attached = await screen.findByTestId("composer-photos");
    expect(within(attached).getByRole("img").getAttribute("src")).toBe(`mock-media/thumb/${chart}`);
    expect(host.calls).toContain("attachCannedPhoto:c1:cr-zh-size-chart");
    expect(composer).toHaveValue("亲，这是我们家防晒衣的尺码表，您对照身高体重选就可以～");
    await userEvent.click(screen.getByTestId("composer-send"));
    await waitFor(() =>
      expect(host.calls).toContain(
        `reply:c1:亲，这是我们家防晒衣的尺码表，您对照身高体重选就可以～:${JSON.stringify([chart])}`,
      ),
    );
  });
});
