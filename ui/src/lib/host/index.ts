// The host: everything the UI asks of the desktop shell, in one typed place.
//
// This folder is the ONLY code that imports `@tauri-apps/*` (see
// docs/architecture.md). Components receive a `Host` and never call `invoke`
// themselves, so they run unchanged against the mock host in tests and in a
// plain browser.

import type { AppInfo } from "./bindings/AppInfo";
import type { ConnectionStatus } from "./bindings/ConnectionStatus";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { Locale } from "./bindings/Locale";
import type { DeskEvent } from "./bindings/DeskEvent";
import type { ConversationDetail } from "./bindings/ConversationDetail";
import type { ThreadMessage } from "./bindings/ThreadMessage";
import type { ArticleView } from "./bindings/ArticleView";
import type { SearchHit } from "./bindings/SearchHit";
import type { CannedHit } from "./bindings/CannedHit";
import type { ReplyTemplate } from "./bindings/ReplyTemplate";
import type { ReplyField } from "./bindings/ReplyField";
import type { Presence } from "./bindings/Presence";
import type { PresenceReason } from "./bindings/PresenceReason";
import type { QueueItem } from "./bindings/QueueItem";
import type { QueueScope } from "./bindings/QueueScope";
import type { SignInDefaults } from "./bindings/SignInDefaults";
import type { SignedInAgent } from "./bindings/SignedInAgent";
import type { UnlockAnswer } from "./bindings/UnlockAnswer";
import type { KnownAgent } from "./bindings/KnownAgent";
import type { Attachment } from "./bindings/Attachment";
import type { UpdateStatus } from "./bindings/UpdateStatus";
import type {
  ConflictView,
  MyDay,
  Notice,
  Preferences,
  RecentArticle,
  ScriptChoice,
  TransferTarget,
  TransferTargets,
} from "./pending-types";
import type { Reports, RoleChange, TeamSnapshot, TraineesSnapshot } from "./console-types";
import type {
  PracticeCatalog,
  PracticeChoice,
  PracticeMark,
  PracticeResult,
  PracticeStatus,
  ScoreReport,
} from "./practice-types";

export type {
  AppInfo,
  ArticleView,
  Attachment,
  Presence,
  PresenceReason,
  CannedHit,
  ReplyField,
  ReplyTemplate,
  SearchHit,
  ConnectionStatus,
  ConversationDetail,
  ThreadMessage,
  DeskEvent,
  ErrorCode,
  Locale,
  QueueItem,
  QueueScope,
  SignInDefaults,
  SignedInAgent,
  UnlockAnswer,
  KnownAgent,
};
export type { ConnectionState } from "./bindings/ConnectionState";
export type * from "./pending-types";
export type * from "./practice-types";
export type * from "./console-types";
export type { Channel } from "./bindings/Channel";
export type { Conversation } from "./bindings/Conversation";
export type { Customer } from "./bindings/Customer";
export type { Delivery } from "./bindings/Delivery";
export type { DeliveryState } from "./bindings/DeliveryState";
export type { OrderSummary } from "./bindings/OrderSummary";
export type { UpdateStatus };
export type { UpdatePhase } from "./bindings/UpdatePhase";
export type { UpdateSupport } from "./bindings/UpdateSupport";
export type { UpdateFailureCode } from "./bindings/UpdateFailureCode";
export type { RestartBlock } from "./bindings/RestartBlock";

/**
 * Which copy of a photo the webview shows: the platform's thumbnail, its
 * full image, or a photo attached on this PC and not uploaded yet.
 */
export type MediaKind = "thumb" | "full" | "local";

/** The copy of `photo` to show in a thread or a composer: local, else the thumbnail. */
export function previewKind(photo: Attachment): MediaKind {
  return photo.id.startsWith("local-") ? "local" : "thumb";
}

export interface Host {
  /** Name, version, data folder and the saved interface language. */
  appInfo(): Promise<AppInfo>;
  /** Saves the interface language; resolves with the updated info. */
  setLocale(locale: Locale): Promise<AppInfo>;
  /** Online / degraded / offline, and how many actions wait to be sent. */
  connectionStatus(): Promise<ConnectionStatus>;
  /** The platform address and agent code to offer on the sign-in screen. */
  signInDefaults(): Promise<SignInDefaults>;
  /** Who is signed in (a saved session is resumed at start), or null. */
  signedIn(): Promise<SignedInAgent | null>;
  /**
   * Signs in; fails with wrong_password, unreachable, untrusted_certificate
   * or too_many_attempts (the platform's wait in `retryAfterSeconds`).
   */
  signIn(platformUrl: string, agent: string, password: string): Promise<SignedInAgent>;
  /** Signs out; unsent actions wait for the next sign-in. */
  signOut(): Promise<void>;
  /** The queue from the local store, most urgent first. */
  queue(scope: QueueScope): Promise<QueueItem[]>;
  /** Takes an unassigned conversation (shown as mine at once, sent when online). */
  claim(conversationId: string): Promise<void>;
  /** A conversation with its thread, customer and saved draft; null if unknown. */
  conversation(conversationId: string): Promise<ConversationDetail | null>;
  /**
   * A conversation wherever it is: this PC's copy, else the platform's (older
   * history outside the sync scope, read over the link, not kept). Fails with
   * unreachable offline, not_found when the platform has none this agent may read.
   */
  openConversation(conversationId: string): Promise<ConversationDetail>;
  /** Gives a conversation back to its queue. */
  release(conversationId: string): Promise<void>;
  /** Writes an internal note (agents only, never sent to the customer). */
  note(conversationId: string, body: string): Promise<void>;
  /** Takes a contact the platform offered. */
  acceptOffer(offerId: string): Promise<void>;
  /** Passes on an offered contact; the platform offers it to someone else. */
  declineOffer(offerId: string): Promise<void>;
  /** Available, busy, on break or offline. */
  presence(): Promise<Presence>;
  /** Changes presence; the platform routes new contacts by it. */
  setPresence(presence: Presence): Promise<void>;
  /**
   * Sends a reply with the composer's photos named in `attachments` (ids of
   * `draft_attachments`); shown at once as pending, delivered when online.
   * The text may be empty when photos go.
   */
  reply(conversationId: string, body: string, attachments: string[]): Promise<void>;
  /**
   * Attaches a photo (the file's bytes) to the reply being written; the core
   * checks it and keeps it on this PC until it is sent. photo_too_large or
   * photo_unsupported, with nothing kept, when it cannot go.
   */
  attachPhoto(conversationId: string, bytes: Uint8Array): Promise<Attachment>;
  /**
   * Attaches a canned reply's photo (a size chart) to the reply being
   * written; the platform already holds it. invalid_input when the canned
   * reply has none or the reply already has four photos.
   */
  attachCannedPhoto(conversationId: string, cannedId: string): Promise<Attachment>;
  /** Takes a photo off the reply being written. */
  removePhoto(conversationId: string, photoId: string): Promise<void>;
  /**
   * The address the webview loads a photo from (the shell's media scheme;
   * no network, no data: URLs). Not a call: the request goes when an image
   * asks for it.
   */
  mediaUrl(kind: MediaKind, photoId: string): string;
  /** Keeps the composer text locally as the agent types. */
  saveDraft(conversationId: string, body: string): Promise<void>;
  /**
   * Resolves the conversation with a disposition code, an optional note and
   * the seconds of after-contact work (0..=86400); the platform keeps them.
   */
  wrapUp(
    conversationId: string,
    disposition: string,
    note: string | null,
    afterContactSecs: number,
  ): Promise<void>;
  /**
   * Logs a call made from the call screen (PC clock, Unix ms) for the
   * platform to keep; `invalid_input` if it ends before it starts or lasts
   * over four hours.
   */
  logCall(conversationId: string, startedAt: number, endedAt: number): Promise<void>;
  /** Guided call scripts in the agent's language for a conversation; suggested ones first. */
  scripts(conversationId: string): Promise<ScriptChoice[]>;
  /** Queues and colleagues (not me) a conversation can be transferred to. */
  transferTargets(): Promise<TransferTargets>;
  /** Hands a conversation to a queue or a colleague; it leaves "mine". */
  transfer(conversationId: string, target: TransferTarget): Promise<void>;
  /** The conversation in front (null: none), so its messages raise no notification. */
  setFocusedConversation(conversationId: string | null): Promise<void>;
  /** Articles opened with `article()`, most recent first. */
  recentArticles(limit: number): Promise<RecentArticle[]>;
  /** Knowledge-base search (Chinese, pinyin, English), offline from the local store. */
  searchArticles(query: string, limit: number): Promise<SearchHit[]>;
  /** One article; `html` is sanitized by the core and safe to show as HTML. */
  article(articleId: string): Promise<ArticleView | null>;
  /**
   * Opens a web address (http, https) from an article in the system browser,
   * after the agent confirmed it; invalid_input for any other address.
   */
  openLink(address: string): Promise<void>;
  /** Canned replies by title, shortcut or pinyin (the composer's `/` menu). */
  searchCannedReplies(query: string, limit: number): Promise<CannedHit[]>;
  /** A canned reply with its fields prefilled from the conversation. */
  replyTemplate(cannedId: string, conversationId: string | null): Promise<ReplyTemplate | null>;
  /** Listens to the desk's events; resolves with a function that stops listening. */
  onDeskEvent(listener: (event: DeskEvent) => void): Promise<() => void>;
  /** Today's figures for the signed-in agent (handled, averages, SLA kept). */
  myDay(): Promise<MyDay>;
  /** Text size, contrast, motion, auto-lock, notifications and sound. */
  preferences(): Promise<Preferences>;
  /** Saves preferences; invalid_input when lockAfterMinutes is outside 0..=240. */
  setPreferences(preferences: Preferences): Promise<Preferences>;
  /** Downloads the knowledge-base update waiting on a metered link (`connection.kbUpdateWaiting`). */
  allowKbUpdate(): Promise<void>;
  /** Turns the screen lock on (kept across restarts). */
  lock(): Promise<void>;
  /**
   * Opens the lock of the agent on screen with their password, offline: the
   * screen lock, or at start their encrypted store (the desk opens). A wrong
   * password is counted; after 5 in a row `retryAfterMs` says how long until
   * a try is checked again (30 s, doubling), across restarts too.
   */
  unlock(password: string): Promise<UnlockAnswer>;
  /** After 换人: opens the store of another agent known on this PC, offline. */
  unlockAs(agent: string, password: string): Promise<UnlockAnswer>;
  /** 换人: closes the desk on screen (its data is no longer reachable); nobody is signed in. */
  switchUser(): Promise<void>;
  /** The agents with data on this PC, for the 换人 screen. */
  knownAgents(): Promise<KnownAgent[]>;
  /** Actions the platform refused and the agent has not dismissed yet, newest first. */
  conflicts(): Promise<ConflictView[]>;
  /** The agent has seen a refused action: it leaves the list. */
  dismissConflict(id: number): Promise<void>;
  /** Notifications the OS could not show, to show in the app; resolves with a stop function. */
  onNotice(listener: (notice: Notice) => void): Promise<() => void>;

  // ---- Practice mode: the sandbox (own database, simulated customers) ----

  /** The practice scenarios and packs, in the interface language. */
  practiceCatalog(): Promise<PracticeCatalog>;
  /**
   * Switches to the sandbox, signed in or not (offline, no platform needed);
   * resolves with the practice identity, which `signedIn()` returns from now
   * on. invalid_input for an unknown scenario or pack.
   */
  startPractice(choice: PracticeChoice): Promise<SignedInAgent>;
  /** Leaves the sandbox: back to the live agent, or null (the sign-in screen). */
  stopPractice(): Promise<SignedInAgent | null>;
  /** The running session: its contacts so far, score and result. */
  practiceStatus(): Promise<PracticeStatus>;
  /**
   * A practice contact's score report, final once it is wrapped up (and
   * saved to the history then); null if unknown, and in an exam until every
   * contact is over.
   */
  practiceReport(conversationId: string): Promise<ScoreReport | null>;
  /** Finished practice contacts on this PC, newest first. */
  practiceHistory(): Promise<PracticeResult[]>;
  /**
   * Tells the practice customer what the trainee used: an article opened or
   * inserted, or a script step reached (`script-id#step-id`). Practice only.
   */
  practiceMark(conversationId: string, mark: PracticeMark): Promise<void>;

  // ---- The team console: supervisors and trainers ----

  /**
   * The supervisor's agents and queues, live from the platform; when it is
   * out of reach, the last answer kept on this PC (`live` false, `fetchedAt`
   * says how old), or no view at all if there never was one.
   */
  consoleTeam(): Promise<TeamSnapshot>;
  /** Every trainee's practice progress (trainers and supervisors), kept like `consoleTeam`. */
  consoleTrainees(): Promise<TraineesSnapshot>;
  /**
   * Per agent and per day from `from` to `to` (`YYYY-MM-DD`, this PC's days).
   * Needs the platform: unreachable offline; invalid_input for a bad range.
   */
  consoleReports(from: string, to: string): Promise<Reports>;
  /** Saves the same report as CSV in the Downloads folder; resolves with the file's path. */
  consoleExportReports(from: string, to: string): Promise<string>;
  /**
   * Promotes a trainee with a passed exam to agent of `queues` (at least
   * one); the platform checks and records it (forbidden when it refuses).
   */
  consolePromote(trainee: string, queues: string[]): Promise<RoleChange>;
  /**
   * A supervisor sets an agent of their queues away or back (never
   * themself: invalid_input); through the outbox, so it works offline.
   */
  setAgentPresence(agent: string, presence: Presence): Promise<void>;

  // ---- Updates of the app itself (from the agent's platform, signed) ----

  /** The installed version, the last check and where an update stands. */
  updateStatus(): Promise<UpdateStatus>;
  /** Looks for an update now; what happens next arrives through `onUpdate`. */
  checkForUpdate(): Promise<UpdateStatus>;
  /**
   * Installs the downloaded update and restarts the app. restart_not_allowed
   * while a conversation is open or a reply unsent; update_failed when the
   * system refused it (the installed version keeps running).
   */
  installUpdate(): Promise<void>;
  /** Every change of the update status; resolves with a stop function. */
  onUpdate(listener: (status: UpdateStatus) => void): Promise<() => void>;
}

/**
 * Codes a host call can fail with: the core's closed `ErrorCode`, plus `ipc`
 * when the call never reached the core (not permitted, shell not running).
 */
export type HostErrorCode = ErrorCode | "ipc";

/** A failed host call. Branch on `code`; show `message` only as detail. */
export class HostError extends Error {
  readonly code: HostErrorCode;
  /** For `too_many_attempts`: seconds until the platform takes a sign-in again, when it said. */
  readonly retryAfterSeconds: number | null;

  constructor(code: HostErrorCode, message: string, retryAfterSeconds: number | null = null) {
    super(message);
    this.name = "HostError";
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

const CORE_CODES: readonly string[] = [
  "invalid_input",
  "storage",
  "wrong_password",
  "unreachable",
  "untrusted_certificate",
  "platform",
  "not_signed_in",
  "locked",
  "photo_too_large",
  "photo_unsupported",
  "restart_not_allowed",
  "update_failed",
  "store_locked",
  "too_many_attempts",
  "not_found",
  "superseded",
  "forbidden",
] satisfies ErrorCode[];

/** Turns whatever a rejected IPC call gave us into a `HostError`. */
export function toHostError(reason: unknown): HostError {
  if (reason instanceof HostError) return reason;
  if (typeof reason === "object" && reason !== null && "code" in reason && "message" in reason) {
    const { code, message, retryAfterSeconds } = reason as {
      code: unknown;
      message: unknown;
      retryAfterSeconds?: unknown;
    };
    if (typeof code === "string" && CORE_CODES.includes(code) && typeof message === "string") {
      const wait =
        typeof retryAfterSeconds === "number" && Number.isFinite(retryAfterSeconds)
          ? retryAfterSeconds
          : null;
      return new HostError(code as ErrorCode, message, wait);
    }
  }
  const text = reason instanceof Error ? reason.message : String(reason);
  return new HostError("ipc", text);
}

/** The host for this page: the Tauri shell when inside it, else the mock. */
export async function detectHost(): Promise<Host> {
  const { isTauri } = await import("@tauri-apps/api/core");
  if (isTauri()) {
    const { tauriHost } = await import("./tauri");
    return tauriHost;
  }
  const { createMockHost } = await import("./mock");
  return createMockHost();
}

/**
 * Fills a canned reply's `{name}` placeholders; null while a required field
 * is empty (the reply cannot be used yet).
 */
export function renderReply(body: string, fields: readonly ReplyField[]): string | null {
  let text = body;
  for (const field of fields) {
    const value = field.value.trim();
    if (value === "" && field.required) return null;
    text = text.split(`{${field.name}}`).join(value);
  }
  return text;
}
