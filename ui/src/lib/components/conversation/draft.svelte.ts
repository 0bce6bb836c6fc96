// The reply being written in the open conversation and how it is kept: the
// text is saved to the local store when the typing pauses, the saved draft
// fills the reply box once per conversation (never over what the agent is
// typing), knowledge text inserted before it arrived is added after it, and
// a reply the platform refused comes back ahead of what was saved
// (`takeReturnedText`). It lives as long as the conversation view, so the
// text survives the wrap-up and transfer panels that replace the composer.
// Photos attached to the reply are kept by the core with the draft (each
// attach and removal is saved at once); a refused photo reply brings its
// photos back, and every read of the conversation shows them.

import { toHostError, type Attachment, type Host, type HostErrorCode } from "../../host";

export class ReplyDraft {
  /** The text in the reply box. */
  body = $state("");
  /** A send is under way. */
  sending = $state(false);
  /** Write an internal note instead of a reply to the customer. */
  asNote = $state(false);
  /** The conversation whose saved draft is in `body`. */
  loadedFor = $state<string | null>(null);
  /** Photos attached to the reply, in order (the core's `draft_attachments`). */
  photos = $state<Attachment[]>([]);
  /** A photo is being read and checked. */
  attaching = $state(false);

  /**
   * The draft the store holds as far as this view knows (loaded, saved or
   * sent), and a count of this view's own draft writes. A reload that finds
   * another draft than `known`, asked for after the last own write, means
   * the core changed it: a refused reply came back, ahead of what was saved.
   */
  private known = "";
  private ownWrites = 0;
  private savesInFlight = 0;
  /** Knowledge text inserted before the saved draft arrived; added after it. */
  private waitingInserts: string[] = [];
  /** The draft waiting for the typing to pause: [conversation, text]. */
  private unsaved: [string, string] | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  private readonly host: () => Host;
  private readonly conversationId: () => string;
  private readonly onfailure: (code: HostErrorCode) => void;

  constructor(
    host: () => Host,
    conversationId: () => string,
    onfailure: (code: HostErrorCode) => void,
  ) {
    this.host = host;
    this.conversationId = conversationId;
    this.onfailure = onfailure;
  }

  /** This view's draft writes so far; a reload asked for before the last one is stale. */
  get writes(): number {
    return this.ownWrites;
  }

  /**
   * Sending is possible: text (or, for a reply, photos alone), not a `/`
   * command, no send under way.
   */
  get sendable(): boolean {
    if (this.sending || this.attaching || this.body.startsWith("/")) return false;
    return this.body.trim() !== "" || (!this.asNote && this.photos.length > 0);
  }

  /**
   * The conversation was read, `writesAtRequest` being `writes` when it was
   * asked for. True when this is its first read: the composer takes the focus.
   */
  loaded(id: string, stored: string, writesAtRequest: number, photos: Attachment[] = []): boolean {
    // The core keeps the photos: what it read is what is attached.
    if (!this.sending && !this.attaching) this.photos = photos;
    if (this.loadedFor === id) {
      const settled =
        writesAtRequest === this.ownWrites && this.savesInFlight === 0 && !this.sending;
      if (settled) this.takeReturnedText(stored);
      return false;
    }
    this.body = stored;
    this.known = stored;
    this.loadedFor = id;
    const waiting = this.waitingInserts;
    this.waitingInserts = [];
    for (const text of waiting) this.append(text);
    if (waiting.length > 0) this.typed();
    return true;
  }

  /**
   * A reply the platform refused comes back into the stored draft ahead of
   * what was saved (core: `outbox` folds it back): show it in the composer,
   * ahead of anything typed since, and keep it saved. Nothing is lost while
   * the conversation stays open.
   */
  private takeReturnedText(stored: string) {
    const known = this.known;
    if (stored === known || !stored.endsWith(known)) return;
    const returned = stored.slice(0, stored.length - known.length);
    const body = this.body;
    this.body = known === "" && body.trim() !== "" ? `${returned}\n\n${body}` : returned + body;
    this.known = stored;
    if (this.body !== stored) this.typed();
  }

  /** The text changed: save it when the typing pauses. */
  typed() {
    clearTimeout(this.timer);
    this.unsaved = [this.conversationId(), this.body];
    this.timer = setTimeout(() => this.saveNow(), 400);
  }

  /** Saves what waits for the typing to pause, now (closing keeps what was typed). */
  saveNow() {
    clearTimeout(this.timer);
    if (this.unsaved === null) return;
    const [id, text] = this.unsaved;
    this.unsaved = null;
    if (id === this.conversationId()) this.known = text;
    this.ownWrites += 1;
    this.savesInFlight += 1;
    this.host()
      .saveDraft(id, text)
      .catch((reason) => this.onfailure(toHostError(reason).code))
      .finally(() => {
        this.savesInFlight -= 1;
        this.ownWrites += 1;
      });
  }

  private append(text: string) {
    const body = this.body;
    this.body = body === "" ? text : body.endsWith("\n") ? body + text : `${body}\n${text}`;
  }

  /**
   * Puts knowledge-base text at the end of the reply (on a new line) and
   * keeps the draft as typing does. True when it is in the reply box now;
   * before the saved draft arrived it waits and is added after it.
   */
  insert(text: string): boolean {
    const clean = text.trim();
    if (clean === "") return false;
    if (this.loadedFor !== this.conversationId()) {
      this.waitingInserts.push(clean);
      return false;
    }
    this.append(clean);
    this.typed();
    return true;
  }

  /** Sends the text as a reply or a note; `reload` re-reads the conversation after. */
  async send(reload: () => Promise<void>) {
    // A leading "/" opens the canned-reply menu; it is never sent as is.
    if (!this.sendable) return;
    const id = this.conversationId();
    this.sending = true;
    clearTimeout(this.timer);
    this.unsaved = null;
    this.ownWrites += 1;
    try {
      if (this.asNote) await this.host().note(id, this.body);
      else {
        await this.host().reply(
          id,
          this.body,
          this.photos.map((photo) => photo.id),
        );
        this.photos = [];
      }
      this.body = "";
      this.known = "";
      await reload();
    } catch (reason) {
      this.onfailure(toHostError(reason).code);
    } finally {
      this.sending = false;
    }
  }

  /**
   * Attaches a photo the agent chose (its bytes) to the reply; the core
   * checks it. A refusal (too large, not a photo) goes to `onfailure`.
   */
  attach(bytes: Uint8Array) {
    return this.addPhoto((id) => this.host().attachPhoto(id, bytes));
  }

  /** Attaches a canned reply's photo (the platform holds it already). */
  attachCanned(cannedId: string) {
    return this.addPhoto((id) => this.host().attachCannedPhoto(id, cannedId));
  }

  /** Adds the photo `attach` gives to this conversation's reply, once. */
  private async addPhoto(attach: (conversationId: string) => Promise<Attachment>) {
    const id = this.conversationId();
    this.attaching = true;
    try {
      const photo = await attach(id);
      if (id === this.conversationId() && !this.photos.some((p) => p.id === photo.id)) {
        this.photos = [...this.photos, photo];
      }
    } catch (reason) {
      this.onfailure(toHostError(reason).code);
    } finally {
      this.attaching = false;
    }
  }

  /** Takes a photo off the reply. */
  async remove(photoId: string) {
    const id = this.conversationId();
    try {
      await this.host().removePhoto(id, photoId);
      this.photos = this.photos.filter((p) => p.id !== photoId);
    } catch (reason) {
      this.onfailure(toHostError(reason).code);
    }
  }
}
