// The in-app notices (what the OS could not show as a notification, and
// every note that mentions the agent), oldest first and a few at most: each
// gets an id of its own to key and dismiss it by. The agent's preferences
// decide whether one shows at all (notifications off: none) and whether it
// chimes. A mention is shown from the desk's event (the OS may show it
// too); the OS's stand-in for the same mention adds nothing. NoticeArea.svelte
// draws them and dismisses them by itself after a while.

import type { Notice, Preferences } from "../host";
import type { Mention } from "../desk-events";
import { chime } from "../appearance";

/** A notice as the app keeps it: with an id of its own to key and dismiss by. */
export interface NoticeEntry {
  id: number;
  notice: Notice;
  /** A mention, worded in the interface language when shown (who, where). */
  mention?: Pick<Mention, "by" | "subject">;
}

/** The most notices on screen; a new one pushes the oldest out. */
export const MAX_NOTICES = 5;

export class NoticeList {
  /** The notices shown, oldest first. */
  items = $state<NoticeEntry[]>([]);
  private nextId = 1;

  /** A notice arrived; `preferences` (null: not read yet) say whether it shows and chimes. */
  received(notice: Notice, preferences: Preferences | null) {
    if (notice.kind === "mention" && this.mentionShown(notice.conversationId)) return;
    this.add({ id: this.nextId++, notice }, preferences);
  }

  /** A colleague's note mentions the agent: shown in the app, in place of the OS's stand-in. */
  mentioned(mention: Mention, preferences: Preferences | null) {
    if (preferences && !preferences.notifications) return;
    this.items = this.items.filter(
      (n) => !(n.notice.kind === "mention" && n.notice.conversationId === mention.conversationId),
    );
    this.add(
      {
        id: this.nextId++,
        notice: {
          kind: "mention",
          conversationId: mention.conversationId,
          title: `@${mention.by}`,
          body: mention.preview,
        },
        mention: { by: mention.by, subject: mention.subject },
      },
      preferences,
    );
  }

  private mentionShown(conversationId: string | null): boolean {
    return this.items.some((n) => n.mention && n.notice.conversationId === conversationId);
  }

  private add(entry: NoticeEntry, preferences: Preferences | null) {
    if (preferences && !preferences.notifications) return;
    this.items = [...this.items, entry].slice(-MAX_NOTICES);
    if (preferences?.sound ?? true) chime();
  }

  dismiss(id: number) {
    this.items = this.items.filter((n) => n.id !== id);
  }

  clear() {
    this.items = [];
  }
}
