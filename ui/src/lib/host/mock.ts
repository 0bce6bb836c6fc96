// A small host for component tests and for opening the UI in a plain browser
// (`npm run dev`). It is not a second workstation: it decides nothing. Every
// command answers from `answers` (a test sets what it needs; the defaults are
// an empty, offline desk) and every call is recorded in `calls`
// ("name:arg:arg"). Practice answers are recordings of the REAL engine
// (fixtures/practice.*.json, written by crates/core/tests/practice_fixtures.rs;
// `make fixtures`): the mock replays them frame by frame and refuses any
// action the recording did not make, so the UI tests never test a copy of
// the scoring. The data it answers with is in mock-fixtures.ts; test data
// for the live desk and explicit set-ups (rows after a claim, refused
// actions) that tests opt into are in mock-data.ts.

import {
  HostError,
  type AppInfo,
  type ConnectionStatus,
  type DeskEvent,
  type Host,
  type HostErrorCode,
  type Notice,
  type PracticeResult,
  type Preferences,
  type Presence,
  type QueueItem,
  type SignedInAgent,
  type ThreadMessage,
  type Customer,
  type Attachment,
  type UpdateStatus,
  type KnownAgent,
  type UnlockAnswer,
} from "./index";
import {
  DEFAULT_PREFERENCES,
  MOCK_AGENT,
  MOCK_PASSWORD,
  catalog,
  detailOf,
  type PracticeRecording,
  type PracticeStep,
} from "./mock-fixtures";

export * from "./mock-fixtures";

export type Answers = { [K in keyof Host]?: Host[K] };

/** An answer that fails the way the core does, with `code`. */
export const fails =
  (code: HostErrorCode, message: string = code) =>
  async (): Promise<never> => {
    throw new HostError(code, message);
  };

export interface MockHostOptions {
  info?: Partial<AppInfo>;
  connection?: ConnectionStatus;
  preferences?: Partial<Preferences>;
  /** Start signed in as this agent (a resumed session). */
  signedIn?: SignedInAgent;
  /** What `queue` answers (any scope); `conversation` builds each row's detail. */
  queue?: QueueItem[];
  /** Customer details by conversation id, over `detailOf`'s default customer. */
  customers?: Record<string, Partial<Customer>>;
  /** What `practiceHistory` answers outside a recording. */
  practiceHistory?: PracticeResult[];
  /** The practice sessions `startPractice` can replay. */
  recordings?: PracticeRecording[];
  /** What `updateStatus` answers (over a build that cannot update). */
  update?: Partial<UpdateStatus>;
  /** The agents with data on this PC (`knownAgents`); each unlocks with `MOCK_PASSWORD`. */
  known?: KnownAgent[];
  /** Answers that replace the defaults (a test's set-up). */
  answers?: Answers;
}

export interface MockHost extends Host {
  /** Every call, as "name:arg:arg" (objects as JSON). */
  calls: string[];
  /** Replace an answer at any time; later calls use it. */
  answers: Answers;
  /** What the default `queue` answers (`options.queue`), and `conversation` reads. */
  rows: QueueItem[];
  /** Thread messages after each row's first one, by conversation id. */
  messages: Record<string, ThreadMessage[]>;
  /** Photos attached in each conversation's composer (`attachPhoto` adds, `removePhoto` takes off). */
  photos: Record<string, Attachment[]>;
  /** Changes (or with `null` removes) a row and tells the UI, as the desk would. */
  update(conversationId: string, patch: Partial<QueueItem> | null): void;
  /** The desk sends an event (news, an offer, refused actions). */
  send(event: DeskEvent): void;
  /** A notification the OS could not show. */
  notice(notice: Notice): void;
  /** The shell passes a new update status (a check, download progress, a failure). */
  updated(status: UpdateStatus): void;
}

const OFFLINE: ConnectionStatus = {
  state: "offline",
  pendingActions: 0,
  lastSyncAt: null,
  signInNeeded: false,
  problem: null,
  data: { today: 0, month: 0, budget: null, metered: false, warning: false },
  kbUpdateWaiting: null,
  kbUpdating: null,
  clockOffsetMs: 0,
};

/** Why the mock's console has nothing: as the core says it, never shown. */
export const OUT_OF_REACH = "cannot reach the platform: connection refused";

const show = (arg: unknown) =>
  arg === null ? "none" : typeof arg === "object" ? JSON.stringify(arg) : String(arg);

export function createMockHost(options: MockHostOptions = {}): MockHost {
  let info: AppInfo = {
    name: "Homedesk",
    version: "0.0.0-mock",
    dataDir: "/mock/homedesk",
    locale: "zh-CN",
    ...options.info,
  };
  let agent: SignedInAgent | null = options.signedIn ?? null;
  let preferences: Preferences = { ...DEFAULT_PREFERENCES, ...options.preferences };
  let presence: Presence = "offline";
  let history = options.practiceHistory ?? [];
  const listeners = new Set<(event: DeskEvent) => void>();
  const noticeListeners = new Set<(notice: Notice) => void>();
  const updateListeners = new Set<(status: UpdateStatus) => void>();
  let update: UpdateStatus = {
    installedVersion: "0.0.0-mock",
    support: "no_key",
    lastCheckedAt: null,
    phase: { state: "none" },
    restartBlocked: null,
    ...options.update,
  };
  const emit = (event: DeskEvent) => listeners.forEach((listener) => listener(event));

  /** The recording being replayed, its current frame, and the agent before it. */
  let practice: { rec: PracticeRecording; at: number; live: SignedInAgent | null } | null = null;
  const frame = () => (practice ? practice.rec.frames[practice.at]! : null);
  /** Moves the replay one frame on, if `step` is what the trainee did next there. */
  const play = (step: PracticeStep) => {
    if (!practice) return;
    const next = practice.rec.frames[practice.at + 1];
    const expected = next?.after ?? "nothing more";
    if (JSON.stringify(expected) !== JSON.stringify(step)) {
      const why = `off the recording "${practice.rec.name}": got ${show(step)}, expected ${show(expected)}`;
      console.error(why);
      throw new Error(why);
    }
    practice.at += 1;
    history = frame()!.history;
    emit({ type: "changed" });
  };

  let failures = 0;
  const refused = (): UnlockAnswer => ({
    unlocked: false,
    agent: null,
    failures: ++failures,
    retryAfterMs: 0,
  });
  const opened = (who: SignedInAgent): UnlockAnswer => {
    failures = 0;
    return { unlocked: true, agent: { ...who }, failures: 0, retryAfterMs: 0 };
  };

  const defaults: Host = {
    appInfo: async () => ({ ...info }),
    setLocale: async (locale) => ({ ...(info = { ...info, locale }) }),
    connectionStatus: async () => ({ ...(options.connection ?? OFFLINE) }),
    signInDefaults: async () => ({
      platformUrl: "https://127.0.0.1:8443",
      agent: agent?.code ?? null,
    }),
    signedIn: async () => (agent ? { ...agent } : null),
    signIn: async () => ({ ...(agent = { ...MOCK_AGENT }) }),
    signOut: async () => {
      agent = null;
      practice = null;
    },
    queue: async () => structuredClone(frame()?.queue ?? host.rows),
    claim: async (conversationId) => play({ call: "claim", conversationId }),
    conversation: async (id) => {
      const recorded = frame();
      if (recorded) return structuredClone(recorded.conversations[id] ?? null);
      const item = host.rows.find((i) => i.id === id);
      if (!item) return null;
      const detail = detailOf(item, options.customers?.[id]);
      detail.messages.push(...structuredClone(host.messages[id] ?? []));
      detail.draft_attachments = structuredClone(host.photos[id] ?? []);
      return detail;
    },
    openConversation: async (id) => {
      const here = await host.conversation(id);
      if (here) return here;
      throw new HostError("not_found", `no conversation ${id} in the mock`);
    },
    release: async () => {},
    note: async () => {},
    acceptOffer: async () => {},
    declineOffer: async () => {},
    presence: async () => presence,
    setPresence: async (next) => void (presence = next),
    reply: async (conversationId, body) => {
      host.photos[conversationId] = [];
      play({ call: "reply", conversationId, body });
    },
    attachPhoto: async (conversationId, bytes) => {
      // Not a check: an id from the bytes, as the core's `local-<sha256>` looks.
      const hex = [...bytes.slice(0, 32)].map((b) => b.toString(16).padStart(2, "0")).join("");
      const photo: Attachment = {
        id: `local-${hex.padEnd(64, "0")}`,
        media_type: "image/jpeg",
        bytes: bytes.length,
        width: 4,
        height: 3,
      };
      const attached = (host.photos[conversationId] ??= []);
      if (!attached.some((p) => p.id === photo.id)) attached.push(photo);
      return { ...photo };
    },
    attachCannedPhoto: async (conversationId, cannedId) => {
      const template = await host.replyTemplate(cannedId, conversationId);
      const photo = template?.attachment;
      if (!photo) throw new HostError("invalid_input", `${cannedId} has no photo`);
      const attached = (host.photos[conversationId] ??= []);
      if (!attached.some((p) => p.id === photo.id)) attached.push(photo);
      return { ...photo };
    },
    removePhoto: async (conversationId, photoId) => {
      host.photos[conversationId] = (host.photos[conversationId] ?? []).filter(
        (p) => p.id !== photoId,
      );
    },
    mediaUrl: (kind, photoId) => `mock-media/${kind}/${photoId}`,
    saveDraft: async () => {},
    wrapUp: async (conversationId, disposition) =>
      play({ call: "wrapUp", conversationId, disposition }),
    logCall: async () => {},
    scripts: async (id) => structuredClone(practice?.rec.scripts[id] ?? []),
    transferTargets: async () => ({ queues: [], agents: [] }),
    transfer: async () => {},
    setFocusedConversation: async () => {},
    recentArticles: async () => [],
    searchArticles: async (query, limit) =>
      structuredClone(practice?.rec.searches[query.trim()] ?? []).slice(0, limit),
    article: async (id) => structuredClone(practice?.rec.articles[id] ?? null),
    openLink: async () => {},
    searchCannedReplies: async () => [],
    replyTemplate: async () => null,
    onDeskEvent: async (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    // The console with the platform out of reach and nothing kept on this
    // PC; `consoleAnswers` (mock-console.ts) answers with the demo team.
    consoleTeam: async () => ({ view: null, fetchedAt: null, live: false, problem: OUT_OF_REACH }),
    consoleTrainees: async () => ({
      view: null,
      fetchedAt: null,
      live: false,
      problem: OUT_OF_REACH,
    }),
    consoleReports: fails("unreachable", OUT_OF_REACH),
    consoleExportReports: fails("unreachable", OUT_OF_REACH),
    consolePromote: fails("unreachable", OUT_OF_REACH),
    setAgentPresence: async () => {},
    myDay: async () => ({
      handled: 0,
      averageHandleSecs: null,
      averageFirstResponseSecs: null,
      slaKept: 0,
      slaTotal: 0,
    }),
    preferences: async () => ({ ...preferences }),
    setPreferences: async (next) => ({ ...(preferences = { ...next }) }),
    allowKbUpdate: async () => {},
    lock: async () => {
      if (agent) agent = { ...agent, locked: true };
    },
    // Wrong passwords count up; the wait after five is the core's rule, so a
    // test that needs it answers with it (`answers.unlock`).
    unlock: async (password) => {
      if (password !== MOCK_PASSWORD || !agent) return refused();
      agent = { ...agent, locked: false };
      return opened(agent);
    },
    unlockAs: async (code, password) => {
      const who = (options.known ?? []).find((k) => k.code === code);
      if (password !== MOCK_PASSWORD || !who) return refused();
      agent = {
        code: who.code,
        name: who.name,
        queues: [],
        locked: false,
        practice: false,
        role: "agent",
      };
      return opened(agent);
    },
    switchUser: async () => {
      agent = null;
      practice = null;
    },
    knownAgents: async () => structuredClone(options.known ?? []),
    conflicts: async () => [],
    dismissConflict: async () => {},
    onNotice: async (listener) => {
      noticeListeners.add(listener);
      return () => noticeListeners.delete(listener);
    },
    practiceCatalog: async () => catalog(info.locale),
    startPractice: async (choice) => {
      const rec = options.recordings?.find(
        (r) => JSON.stringify(r.choice) === JSON.stringify(choice),
      );
      if (!rec) throw new HostError("invalid_input", `no recording of ${show(choice)}`);
      practice = { rec, at: 0, live: practice?.live ?? agent };
      agent = { ...rec.trainee };
      emit({ type: "changed" });
      return { ...agent };
    },
    stopPractice: async () => {
      agent = practice ? practice.live : agent;
      practice = null;
      emit({ type: "changed" });
      return agent ? { ...agent } : null;
    },
    practiceStatus: async () =>
      structuredClone(
        frame()?.status ?? {
          active: false,
          title: null,
          exam: false,
          passMark: null,
          contacts: [],
          percent: null,
          passed: null,
        },
      ),
    practiceReport: async (id) => structuredClone(frame()?.reports[id] ?? null),
    practiceHistory: async () => structuredClone(history),
    practiceMark: async (conversationId, mark) => {
      if (practice) play({ call: "practiceMark", conversationId, mark });
    },
    updateStatus: async () => structuredClone(update),
    checkForUpdate: async () => structuredClone(update),
    installUpdate: async () => {},
    onUpdate: async (listener) => {
      updateListeners.add(listener);
      return () => updateListeners.delete(listener);
    },
  };

  const calls: string[] = [];
  const answers: Answers = { ...options.answers };
  const host = {
    calls,
    answers,
    rows: structuredClone(options.queue ?? []),
    messages: {},
    photos: {},
  } as MockHost;
  for (const name of Object.keys(defaults) as (keyof Host)[]) {
    (host as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      // `mediaUrl` only makes an address; the request goes when an image loads.
      if (!name.startsWith("on") && name !== "mediaUrl") {
        calls.push([name, ...args.map(show)].join(":"));
      }
      const answer = (answers[name] ?? defaults[name]) as (...a: unknown[]) => unknown;
      return answer(...args);
    };
  }
  host.send = emit;
  host.update = (id, patch) => {
    host.rows = host.rows.flatMap((row) =>
      row.id !== id ? [row] : patch === null ? [] : [{ ...row, ...patch }],
    );
    emit({ type: "changed" });
  };
  host.notice = (notice) => noticeListeners.forEach((listener) => listener({ ...notice }));
  host.updated = (status) => {
    update = structuredClone(status);
    updateListeners.forEach((listener) => listener(structuredClone(status)));
  };
  return host;
}
