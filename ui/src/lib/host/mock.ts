// An in-memory host for component tests and for opening the UI in a plain
// browser (`npm run dev`). It behaves like the core: same defaults (zh-CN,
// offline), same validation, same error shape.

import {
  HostError,
  type AppInfo,
  type ConflictView,
  type ConnectionStatus,
  type DeskEvent,
  type Host,
  type Locale,
  type MyDay,
  type Notice,
  type PracticeResult,
  type PracticeScenario,
  type PracticeStatus,
  type Preferences,
  type ArticleView,
  type ConversationDetail,
  type Customer,
  type RecentArticle,
  type Script,
  type TransferTargets,
  type Presence,
  type ReplyTemplate,
  type QueueItem,
  type SignedInAgent,
  type ThreadMessage,
} from "./index";
import { MOCK_PACKS, MOCK_SCENARIOS, MockPracticeContact, mockCatalog } from "./mock-practice";

export interface MockHostOptions {
  info?: Partial<AppInfo>;
  connection?: ConnectionStatus;
  /** Makes `setLocale` and `setPreferences` fail as if the disk refused the write. */
  failSaves?: boolean;
  /** Saved preferences (the rest are the core's defaults). */
  preferences?: Partial<Preferences>;
  /** Start signed in as this agent (a resumed session). */
  signedIn?: SignedInAgent;
  /** The conversations the queue holds. */
  queue?: QueueItem[];
  /** Customer details by conversation id, over the mock's default customer. */
  customers?: Record<string, Partial<Customer>>;
  /** Finished practice contacts already on this PC, newest first. */
  practiceHistory?: PracticeResult[];
  /**
   * Scenarios the practice catalogue lists that cannot be started (their
   * file was removed or broken since): `startPractice` refuses them.
   */
  unplayableScenarios?: PracticeScenario[];
}

/** The mock's guided call scripts (a few of content/scripts). */
const SCRIPTS: Script[] = [
  {
    id: "script-zh-refund-callback",
    locale: "zh-CN",
    title: "退款进度回访",
    category: "refunds",
    keywords: ["退款", "没收到钱", "到账"],
    start: "greet",
    steps: [
      {
        id: "greet",
        text: "您好，这里是山禾优选的售后客服{agent_name}。请问是{customer_name}吗？关于您反映的退款问题，给您回个电话，现在方便说两句吗？",
        checkpoint: false,
        branches: [
          { label: "是本人，方便", next: "verify" },
          { label: "不是本人 / 现在不方便", next: "reschedule" },
        ],
      },
      {
        id: "verify",
        text: "为了保护您的信息，跟您核对一下：麻烦您说一下收件人的名字和手机号后四位好吗？（不要询问验证码、密码）",
        checkpoint: true,
        branches: [{ label: "核对一致", next: "status" }],
      },
      {
        id: "status",
        text: "谢谢您。您的订单{order_no}退款已经显示成功，原路退回到付款账户。请问您收到这笔钱了吗？",
        checkpoint: false,
        branches: [],
      },
      {
        id: "reschedule",
        text: "好的，不打扰您了。请问您什么时间方便？我们到时候再给您打过来。",
        checkpoint: false,
        branches: [],
      },
    ],
  },
  {
    id: "script-zh-delivery-callback",
    locale: "zh-CN",
    title: "物流延误回访",
    category: "logistics",
    keywords: ["快递", "物流", "没收到货"],
    start: "greet",
    steps: [
      {
        id: "greet",
        text: "您好，我是山禾优选的客服{agent_name}，您的包裹还在路上，给您说一下进度。",
        checkpoint: false,
        branches: [],
      },
    ],
  },
  {
    id: "script-en-refund-callback",
    locale: "en",
    title: "Refund follow-up call",
    category: "refunds",
    keywords: ["refund", "money back"],
    start: "greet",
    steps: [
      {
        id: "greet",
        text: "Hello, this is {agent_name} from Shanhe Select after-sales. Am I speaking with {customer_name}? Is now a good time to talk about your refund?",
        checkpoint: false,
        branches: [
          { label: "Yes, it is them", next: "verify" },
          { label: "Not now / wrong person", next: "reschedule" },
        ],
      },
      {
        id: "verify",
        text: "To protect your details, could you tell me the recipient's name and the last four digits of the phone number? (Never ask for codes or passwords.)",
        checkpoint: true,
        branches: [{ label: "Details match", next: "status" }],
      },
      {
        id: "status",
        text: "Thank you. The refund for order {order_no} shows as paid back to the original account. Have you received it?",
        checkpoint: false,
        branches: [],
      },
      {
        id: "reschedule",
        text: "No problem. When would suit you better? We will call you back then.",
        checkpoint: false,
        branches: [],
      },
    ],
  },
];

/** Where the mock lets a conversation be transferred (the signed-in agent is left out). */
const TRANSFER_TARGETS: TransferTargets = {
  queues: [
    { id: "presales", nameZh: "售前咨询", nameEn: "Pre-sales" },
    { id: "aftersales", nameZh: "售后服务", nameEn: "After-sales" },
  ],
  agents: [
    { code: "a1001", name: "王秀英", presence: "available" },
    { code: "a1002", name: "李春梅", presence: "available" },
    { code: "a1003", name: "张伟", presence: "on_break" },
  ],
};

/** The knowledge-base category a mock conversation is about, from its subject. */
function categoryOf(subject: string): string | null {
  const s = subject.toLowerCase();
  if (s.includes("退款") || s.includes("refund")) return "refunds";
  if (s.includes("快递") || s.includes("物流") || s.includes("parcel")) return "logistics";
  return null;
}

/** The mock's knowledge base (the core sanitizes real articles). */
const ARTICLES: ArticleView[] = [
  {
    id: "kb-refund",
    locale: "zh-CN",
    title: "生鲜坏果怎么退款",
    html: "<h1>生鲜坏果怎么退款</h1><p>请客户在签收后 <strong>48 小时内</strong>拍照反馈。</p>",
    tags: ["退款", "生鲜"],
    category: "refund",
    updated_at: 0,
  },
  {
    id: "kb-parcel",
    locale: "zh-CN",
    title: "查询快递物流",
    html: "<p>在订单详情里查看物流单号。</p>",
    tags: ["物流"],
    category: "logistics",
    updated_at: 0,
  },
  {
    id: "kb-zh-delivery-stuck",
    locale: "zh-CN",
    title: "物流好几天不更新",
    html: "<h2>先核对</h2><p>订单号、快递公司、快递单号，最后一条物流信息的时间和地点。超过正常时效就给快递提交催件，一般24小时内有回复。</p>",
    tags: ["物流", "不更新", "催件", "快递"],
    category: "delivery",
    updated_at: 0,
  },
  {
    id: "kb-zh-farm-rotten-fruit",
    locale: "zh-CN",
    title: "生鲜水果坏果包赔",
    html: "<h2>本店规则</h2><p>助农直播间卖的水果都是坏果包赔：签收后24小时内拍照反馈，核实后按坏果比例退款或补发。</p>",
    tags: ["坏果", "生鲜", "坏果包赔", "售后"],
    category: "farm-produce",
    updated_at: 0,
  },
];

/** The mock's canned replies (a few of content/canned-replies). */
const CANNED: ReplyTemplate[] = [
  {
    id: "cr-zh-waiting-check",
    title: "稍等查询",
    shortcut: "sd",
    body: "亲，您的订单{order_no}我正在帮您查询，请稍等1–2分钟哦～",
    fields: [{ name: "order_no", kind: "order_no", required: true, value: "" }],
  },
  {
    id: "cr-zh-ship-date",
    title: "预计发货时间",
    shortcut: "fh",
    body: "亲，您的订单预计{date}发出，发出后订单里就能看到快递单号哦～",
    fields: [{ name: "date", kind: "date", required: true, value: "" }],
  },
  {
    id: "cr-zh-greeting",
    title: "开场问候",
    shortcut: "nh",
    body: "亲，您好！我是{agent_name}，很高兴为您服务，请问有什么可以帮您？",
    fields: [{ name: "agent_name", kind: "text", required: true, value: "" }],
  },
];

/** The demo agent the mock accepts, with the demo password. */
export const MOCK_AGENT: SignedInAgent = {
  code: "a1001",
  name: "王秀英",
  queues: ["presales", "aftersales"],
  locked: false,
  practice: false,
};
export const MOCK_PASSWORD = "homedesk-demo";

const LOCALES: readonly Locale[] = ["zh-CN", "en"];
const TEXT_SIZES: readonly string[] = ["normal", "large", "larger"];
/** The core's limit for auto-lock (four hours); 0 turns it off. */
const MAX_LOCK_MINUTES = 240;

/** The core's defaults for a workstation that never saved preferences. */
export const DEFAULT_PREFERENCES: Preferences = {
  textSize: "normal",
  highContrast: false,
  reducedMotion: false,
  lockAfterMinutes: 5,
  notifications: true,
  sound: true,
  sendKey: "enter",
};

export function createMockHost(options: MockHostOptions = {}): Host & {
  calls: string[];
  push(item: QueueItem): void;
  refuse(count: number, conflict?: Partial<ConflictView>): void;
  send(event: DeskEvent): void;
  notice(notice: Notice): void;
} {
  let info: AppInfo = {
    name: "Homedesk",
    version: "0.0.0-mock",
    dataDir: "/mock/homedesk",
    locale: "zh-CN",
    ...options.info,
  };
  const connection: ConnectionStatus = options.connection ?? {
    state: "offline",
    pendingActions: 0,
    lastSyncAt: null,
    signInNeeded: false,
    problem: null,
    bytesReceived: 0,
    bytesSent: 0,
    clockOffsetMs: 0,
  };
  const calls: string[] = [];
  let preferences: Preferences = { ...DEFAULT_PREFERENCES, ...options.preferences };
  let conflicts: ConflictView[] = [];
  let nextConflictId = 1;
  const noticeListeners = new Set<(notice: Notice) => void>();
  /** When this agent wrapped each conversation up (the store's resolved_at). */
  const resolvedAt = new Map<string, number>();
  let agent: SignedInAgent | null = options.signedIn ?? null;
  let items: QueueItem[] = (options.queue ?? []).map((item) => ({ ...item }));
  const listeners = new Set<(event: DeskEvent) => void>();
  let presence: Presence = "offline";
  const threads = new Map<string, ThreadMessage[]>();
  const drafts = new Map<string, string>();
  /** Articles opened with `article()`, most recent first. */
  let recent: RecentArticle[] = [];
  /** The running practice session, with the live state it replaced. */
  let practice: {
    startedAt: number;
    title: string;
    exam: boolean;
    passMark: number;
    packId: string | null;
    contacts: MockPracticeContact[];
    live: { agent: SignedInAgent | null; items: QueueItem[]; presence: Presence };
  } | null = null;
  let history: PracticeResult[] = (options.practiceHistory ?? []).map((r) => ({ ...r }));
  const contactOf = (conversationId: string) =>
    practice?.contacts.find((c) => c.conversationId === conversationId) ?? null;
  const threadOf = (item: QueueItem): ThreadMessage[] => {
    if (!threads.has(item.id)) {
      threads.set(item.id, [
        {
          id: `${item.id}-m0`,
          conversation_id: item.id,
          author: "customer",
          agent: null,
          kind: "text",
          body: item.lastMessagePreview,
          sent_at: item.lastMessageAt,
          pending: false,
        },
      ]);
    }
    return threads.get(item.id)!;
  };
  const find = (id: string): QueueItem => {
    const item = items.find((i) => i.id === id);
    if (!item) throw new HostError("invalid_input", `no conversation ${id}`);
    return item;
  };
  const emit = (event: DeskEvent) => listeners.forEach((listener) => listener(event));
  /** The practice customer writes: into the thread, and the queue row's last message. */
  const customerSays = (conversationId: string, lines: { atMs: number; text: string }[]) => {
    const item = items.find((i) => i.id === conversationId);
    if (!item || lines.length === 0) return;
    const thread = threadOf(item);
    for (const line of lines) {
      thread.push({
        id: `${item.id}-m${thread.length}`,
        conversation_id: item.id,
        author: "customer",
        agent: null,
        kind: "text",
        body: line.text,
        sent_at: line.atMs,
        pending: false,
      });
    }
    const last = lines[lines.length - 1]!;
    items = items.map((i) =>
      i.id === conversationId
        ? { ...i, lastMessageAt: last.atMs, lastMessagePreview: last.text }
        : i,
    );
  };
  /** Practice customers who waited too long nudge, then escalate; true if one did. */
  const tickPractice = (): boolean => {
    const now = Date.now();
    let said = false;
    for (const contact of practice?.contacts ?? []) {
      const lines = contact.tick(now);
      customerSays(contact.conversationId, lines);
      said ||= lines.length > 0;
    }
    return said;
  };
  /** While practising, impatient customers speak up on their own (as the core's events say). */
  let patience: ReturnType<typeof setInterval> | null = null;
  const watchPatience = (on: boolean) => {
    if (patience !== null) clearInterval(patience);
    patience = on
      ? setInterval(() => {
          if (tickPractice()) emit({ type: "changed" });
        }, 5000)
      : null;
  };
  const signedInEvenIfLocked = (): SignedInAgent => {
    if (!agent) throw new HostError("not_signed_in", "nobody is signed in on this workstation");
    return agent;
  };
  /** Like the core's `Workstation::desk`: customer data is refused while the screen is locked. */
  const needAgent = (): SignedInAgent => {
    const me = signedInEvenIfLocked();
    if (me.locked)
      throw new HostError("locked", "the screen is locked: unlock it with the password first");
    return me;
  };

  return {
    calls,
    /** Test helper: the platform sends news (a new contact, say). */
    push(item: QueueItem) {
      items = [...items, { ...item }];
      emit({ type: "changed" });
    },
    async appInfo() {
      calls.push("appInfo");
      return { ...info };
    },
    async setLocale(locale) {
      calls.push(`setLocale:${locale}`);
      if (!LOCALES.includes(locale)) {
        throw new HostError("invalid_input", `unknown interface language "${locale}"`);
      }
      if (options.failSaves) {
        throw new HostError("storage", "cannot save settings to /mock/homedesk/settings.json");
      }
      info = { ...info, locale };
      return { ...info };
    },
    async connectionStatus() {
      calls.push("connectionStatus");
      return { ...connection };
    },
    async signInDefaults() {
      calls.push("signInDefaults");
      return { platformUrl: "https://127.0.0.1:8443", agent: agent?.code ?? null };
    },
    async signedIn() {
      calls.push("signedIn");
      return agent ? { ...agent } : null;
    },
    async signIn(platformUrl, code, password) {
      calls.push(`signIn:${code}`);
      if (!platformUrl.startsWith("https://")) {
        throw new HostError("unreachable", `cannot reach ${platformUrl}`);
      }
      if (code !== MOCK_AGENT.code || password !== MOCK_PASSWORD) {
        throw new HostError("wrong_password", "wrong agent code or password");
      }
      agent = { ...MOCK_AGENT };
      return { ...agent };
    },
    async signOut() {
      calls.push("signOut");
      if (practice) {
        items = practice.live.items;
        practice = null;
        watchPatience(false);
      }
      agent = null;
    },
    async queue(scope) {
      calls.push(`queue:${scope}`);
      const me = needAgent();
      tickPractice();
      return items
        .filter((item) => {
          const mine = item.assignedTo === me.code && item.status !== "resolved";
          const open =
            item.assignedTo === null && item.status === "queued" && me.queues.includes(item.queue);
          return scope === "mine" ? mine : scope === "unassigned" ? open : mine || open;
        })
        .map((item) => ({ ...item }));
    },
    async claim(conversationId) {
      calls.push(`claim:${conversationId}`);
      const me = needAgent();
      items = items.map((item) =>
        item.id === conversationId
          ? { ...item, assignedTo: me.code, status: "active", pendingActions: 1 }
          : item,
      );
      emit({ type: "changed" });
    },
    async conversation(conversationId) {
      calls.push(`conversation:${conversationId}`);
      needAgent();
      tickPractice();
      const item = items.find((i) => i.id === conversationId);
      if (!item) return null;
      const scenario = contactOf(item.id)?.scenario;
      const detail: ConversationDetail = {
        conversation: {
          id: item.id,
          channel: item.channel,
          queue: item.queue,
          customer_id: `cust-${item.id}`,
          subject: item.subject,
          category: categoryOf(item.subject),
          status: item.status,
          assigned_to: item.assignedTo,
          priority: item.priority,
          created_at: item.createdAt,
          first_response_due: item.firstResponseDue,
          resolve_due: item.resolveDue,
          first_response_at: item.firstResponseAt,
          last_message_at: item.lastMessageAt,
          last_message_preview: item.lastMessagePreview,
          disposition: null,
          version: 1,
        },
        customer: {
          id: `cust-${item.id}`,
          name: item.customerName,
          phone_masked: "138****1234",
          city: "安徽 宿州",
          orders: [
            {
              order_no: `TB2024${item.id.padStart(6, "0")}`,
              item: "砀山酥梨 5斤装",
              amount_fen: 2990,
              status: "已签收",
              placed_at: item.createdAt - 2 * 86_400_000,
            },
          ],
          ...options.customers?.[item.id],
          ...(scenario && {
            name: scenario.customer.name,
            phone_masked: scenario.customer.phoneMasked,
            city: scenario.customer.city,
            orders: [
              {
                ...scenario.customer.order,
                placed_at: item.createdAt - scenario.customer.order.placedDaysAgo * 86_400_000,
              },
            ],
          }),
        },
        messages: threadOf(item).map((m) => ({ ...m })),
        draft: drafts.get(item.id) ?? null,
      };
      return detail;
    },
    async release(conversationId) {
      calls.push(`release:${conversationId}`);
      needAgent();
      items = items.map((i) =>
        i.id === conversationId ? { ...i, assignedTo: null, status: "queued" } : i,
      );
      emit({ type: "changed" });
    },
    /** Test helper: the platform refused `count` actions (replies, unless `conflict` says). */
    refuse(count: number, conflict: Partial<ConflictView> = {}) {
      for (let i = 0; i < count; i += 1) {
        conflicts = [
          {
            id: nextConflictId++,
            conversationId: null,
            action: "reply",
            code: "not_assigned",
            params: { holder: "a1002" },
            holderName: "李春梅",
            // As the platform words it, in English: never shown.
            message: "conversation c1 is not assigned to you: it is now assigned to a1002",
            createdAt: Date.now(),
            ...conflict,
          },
          ...conflicts,
        ];
      }
      emit({ type: "conflicts", count });
    },
    /** Test helper: a notification the OS could not show. */
    notice(notice: Notice) {
      noticeListeners.forEach((listener) => listener({ ...notice }));
    },
    async note(conversationId, body) {
      calls.push(`note:${conversationId}:${body}`);
      const me = needAgent();
      const item = find(conversationId);
      const thread = threadOf(item);
      thread.push({
        id: `${item.id}-m${thread.length}`,
        conversation_id: item.id,
        author: "agent",
        agent: me.code,
        kind: "note",
        body,
        sent_at: Date.now(),
        pending: true,
      });
      emit({ type: "changed" });
    },
    async acceptOffer(offerId) {
      calls.push(`acceptOffer:${offerId}`);
      needAgent();
    },
    async declineOffer(offerId) {
      calls.push(`declineOffer:${offerId}`);
      needAgent();
    },
    /** Test helper: the platform sends a desk event (an offer, say). */
    send(event: DeskEvent) {
      emit(event);
    },
    async presence() {
      calls.push("presence");
      needAgent();
      return presence;
    },
    async setPresence(next) {
      calls.push(`setPresence:${next}`);
      needAgent();
      presence = next;
    },
    async reply(conversationId, body) {
      calls.push(`reply:${conversationId}:${body}`);
      const me = needAgent();
      tickPractice();
      if (body.trim() === "") throw new HostError("invalid_input", "the message is empty");
      const item = find(conversationId);
      const thread = threadOf(item);
      thread.push({
        id: `${item.id}-m${thread.length}`,
        conversation_id: item.id,
        author: "agent",
        agent: me.code,
        kind: "text",
        body,
        sent_at: Date.now(),
        pending: true,
      });
      drafts.delete(item.id);
      const contact = contactOf(item.id);
      if (contact) {
        const now = Date.now();
        items = items.map((i) =>
          i.id === item.id ? { ...i, firstResponseAt: i.firstResponseAt ?? now } : i,
        );
        customerSays(item.id, contact.reply(body, now));
      }
      emit({ type: "changed" });
    },
    async saveDraft(conversationId, body) {
      calls.push(`saveDraft:${conversationId}`);
      if (body === "") drafts.delete(conversationId);
      else drafts.set(conversationId, body);
    },
    async wrapUp(conversationId, disposition, note, afterContactSecs) {
      calls.push(`wrapUp:${conversationId}:${disposition}:${afterContactSecs}`);
      needAgent();
      tickPractice();
      if (
        !Number.isInteger(afterContactSecs) ||
        afterContactSecs < 0 ||
        afterContactSecs > 86_400
      ) {
        throw new HostError("invalid_input", "after-contact work is 0 to 86400 seconds");
      }
      if (note !== null && [...note].length > 10_000) {
        throw new HostError("invalid_input", "a wrap-up note has at most 10000 characters");
      }
      items = items.map((i) => (i.id === conversationId ? { ...i, status: "resolved" } : i));
      resolvedAt.set(conversationId, Date.now());
      contactOf(conversationId)?.wrapUp(disposition, Date.now());
      emit({ type: "changed" });
    },
    async logCall(conversationId, startedAt, endedAt) {
      calls.push(`logCall:${conversationId}:${Math.round((endedAt - startedAt) / 1000)}`);
      needAgent();
      if (endedAt < startedAt || endedAt - startedAt > 4 * 3_600_000) {
        throw new HostError("invalid_input", "a call ends after it starts and lasts at most 4 h");
      }
    },
    async searchArticles(query, limit) {
      calls.push(`searchArticles:${query}`);
      needAgent();
      const q = query.trim();
      if (q === "") return [];
      return ARTICLES.filter(
        (a) =>
          a.id === q ||
          a.title.includes(q) ||
          a.tags.some((tag) => tag.includes(q)) ||
          (q === "tk" && a.tags.includes("退款")),
      )
        .slice(0, limit)
        .map((a, rank) => ({
          id: a.id,
          title: a.title,
          snippet: `…<mark>${a.tags[0]}</mark>…`,
          score: 2 - rank / 10,
        }));
    },
    async article(articleId) {
      calls.push(`article:${articleId}`);
      needAgent();
      const found = ARTICLES.find((a) => a.id === articleId);
      if (found) {
        recent = [
          { id: found.id, title: found.title, openedAt: Date.now() },
          ...recent.filter((r) => r.id !== found.id),
        ];
      }
      return found ? { ...found } : null;
    },
    async searchCannedReplies(query, limit) {
      calls.push(`searchCannedReplies:${query}`);
      needAgent();
      const q = query.trim();
      return CANNED.filter((c) => q === "" || c.shortcut.startsWith(q) || c.title.includes(q))
        .slice(0, limit)
        .map((c) => ({ id: c.id, title: c.title, shortcut: c.shortcut, score: 3 }));
    },
    async replyTemplate(cannedId) {
      calls.push(`replyTemplate:${cannedId}`);
      const me = needAgent();
      const found = CANNED.find((c) => c.id === cannedId);
      if (!found) return null;
      return {
        ...found,
        fields: found.fields.map((f) => ({
          ...f,
          value: f.name === "agent_name" ? me.name : f.value,
        })),
      };
    },
    async onDeskEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async scripts(conversationId) {
      calls.push(`scripts:${conversationId}`);
      needAgent();
      const item = find(conversationId);
      const category = categoryOf(item.subject);
      const said = [item.subject, ...threadOf(item).map((m) => m.body)].join("\n");
      const choices = SCRIPTS.filter((s) => s.locale === info.locale).map((script) => ({
        script: structuredClone(script),
        suggested: script.category === category || script.keywords.some((k) => said.includes(k)),
      }));
      // Suggested first; otherwise the order of the content files.
      return [...choices.filter((c) => c.suggested), ...choices.filter((c) => !c.suggested)];
    },
    async transferTargets() {
      calls.push("transferTargets");
      const me = needAgent();
      return {
        queues: TRANSFER_TARGETS.queues.map((q) => ({ ...q })),
        agents: TRANSFER_TARGETS.agents.filter((a) => a.code !== me.code).map((a) => ({ ...a })),
      };
    },
    async transfer(conversationId, target) {
      const to = "queue" in target ? `queue=${target.queue}` : `agent=${target.agent}`;
      calls.push(`transfer:${conversationId}:${to}`);
      const me = needAgent();
      find(conversationId);
      if ("queue" in target) {
        if (!TRANSFER_TARGETS.queues.some((q) => q.id === target.queue)) {
          throw new HostError("invalid_input", `no queue ${target.queue}`);
        }
        items = items.map((i) =>
          i.id === conversationId
            ? { ...i, queue: target.queue, assignedTo: null, status: "queued" }
            : i,
        );
      } else {
        if (target.agent === me.code) {
          throw new HostError("invalid_input", "a conversation cannot be transferred to yourself");
        }
        if (!TRANSFER_TARGETS.agents.some((a) => a.code === target.agent)) {
          throw new HostError("invalid_input", `no agent ${target.agent}`);
        }
        items = items.map((i) =>
          i.id === conversationId ? { ...i, assignedTo: target.agent } : i,
        );
      }
      emit({ type: "changed" });
    },
    async setFocusedConversation(conversationId) {
      calls.push(`setFocusedConversation:${conversationId ?? "none"}`);
    },
    async recentArticles(limit) {
      calls.push(`recentArticles:${limit}`);
      needAgent();
      if (!Number.isInteger(limit) || limit < 0) {
        throw new HostError("invalid_input", "limit is a whole number from 0");
      }
      return recent.slice(0, limit).map((r) => ({ ...r }));
    },
    async myDay() {
      calls.push("myDay");
      const me = needAgent();
      const midnight = new Date();
      midnight.setHours(0, 0, 0, 0);
      // Conversations given as already resolved count as wrapped up at their last message.
      const handled = items
        .filter((i) => i.assignedTo === me.code && i.status === "resolved")
        .map((i) => ({ ...i, wrappedAt: resolvedAt.get(i.id) ?? i.lastMessageAt }))
        .filter((i) => i.wrappedAt >= midnight.getTime());
      const answered = handled.filter((i) => i.firstResponseAt !== null);
      const mean = (values: number[]) =>
        values.length === 0
          ? null
          : Math.round(values.reduce((a, b) => a + b, 0) / values.length / 1000);
      return {
        handled: handled.length,
        averageHandleSecs: mean(handled.map((i) => i.wrappedAt - i.createdAt)),
        averageFirstResponseSecs: mean(answered.map((i) => (i.firstResponseAt ?? 0) - i.createdAt)),
        slaKept: answered.filter((i) => (i.firstResponseAt ?? 0) <= i.firstResponseDue).length,
        slaTotal: answered.length,
      } satisfies MyDay;
    },
    async preferences() {
      calls.push("preferences");
      return { ...preferences };
    },
    async setPreferences(next) {
      calls.push(`setPreferences:${next.textSize}:${next.lockAfterMinutes}`);
      if (!TEXT_SIZES.includes(next.textSize) || !["enter", "ctrl_enter"].includes(next.sendKey)) {
        throw new HostError("invalid_input", "unknown text size or send key");
      }
      if (
        !Number.isInteger(next.lockAfterMinutes) ||
        next.lockAfterMinutes < 0 ||
        next.lockAfterMinutes > MAX_LOCK_MINUTES
      ) {
        throw new HostError(
          "invalid_input",
          `lock_after_minutes must be 0..=${MAX_LOCK_MINUTES}, got ${next.lockAfterMinutes}`,
        );
      }
      if (options.failSaves) {
        throw new HostError("storage", "cannot save settings to /mock/homedesk/settings.json");
      }
      preferences = {
        textSize: next.textSize,
        highContrast: next.highContrast,
        reducedMotion: next.reducedMotion,
        lockAfterMinutes: next.lockAfterMinutes,
        notifications: next.notifications,
        sound: next.sound,
        sendKey: next.sendKey,
      };
      return { ...preferences };
    },
    async lock() {
      calls.push("lock");
      const me = signedInEvenIfLocked();
      if (practice && practice.live.agent === null) {
        throw new HostError(
          "invalid_input",
          "practice without signing in has no password to lock the screen with",
        );
      }
      agent = { ...me, locked: true };
    },
    async unlock(password) {
      calls.push("unlock");
      const me = signedInEvenIfLocked();
      if (password !== MOCK_PASSWORD) return false;
      agent = { ...me, locked: false };
      return true;
    },
    async conflicts() {
      calls.push("conflicts");
      needAgent();
      return conflicts.map((c) => ({ ...c }));
    },
    async dismissConflict(id) {
      calls.push(`dismissConflict:${id}`);
      needAgent();
      // Like the core: an id already gone is not an error.
      conflicts = conflicts.filter((c) => c.id !== id);
    },
    async onNotice(listener) {
      noticeListeners.add(listener);
      return () => noticeListeners.delete(listener);
    },
    async practiceCatalog() {
      calls.push("practiceCatalog");
      return mockCatalog(info.locale, options.unplayableScenarios);
    },
    async startPractice(choice) {
      const id = "scenario" in choice ? choice.scenario : choice.pack;
      calls.push(`startPractice:${id}`);
      if (agent?.locked) {
        throw new HostError("locked", "the screen is locked: unlock it with the password first");
      }
      const find = (scenarioId: string) => {
        const found = MOCK_SCENARIOS.find((s) => s.id === scenarioId);
        if (!found) throw new HostError("invalid_input", `no practice scenario "${scenarioId}"`);
        return found;
      };
      let session: Omit<NonNullable<typeof practice>, "contacts" | "live" | "startedAt">;
      let scenarios;
      if ("scenario" in choice) {
        const scenario = find(choice.scenario);
        scenarios = [scenario];
        session = {
          title: scenario.title,
          exam: false,
          passMark: scenario.rubric.passMark,
          packId: null,
        };
      } else {
        const pack = MOCK_PACKS.find((p) => p.id === choice.pack);
        if (!pack) throw new HostError("invalid_input", `no practice pack "${choice.pack}"`);
        scenarios = pack.scenarioIds.map(find);
        session = { title: pack.title, exam: pack.exam, passMark: pack.passMark, packId: pack.id };
      }
      // Starting again while practising replaces the session, not the live desk behind it.
      const live = practice?.live ?? { agent, items, presence };
      const now = Date.now();
      const contacts = scenarios.map((s) => new MockPracticeContact(`conv-${s.id}`, s, now));
      for (const contact of contacts) {
        threads.delete(contact.conversationId);
        drafts.delete(contact.conversationId);
      }
      // The mock lets every customer of a pack arrive at once (the core paces them).
      items = contacts.map((contact) => ({
        id: contact.conversationId,
        channel: contact.scenario.channel,
        queue: "practice",
        subject: contact.scenario.title,
        customerName: contact.scenario.customer.name,
        status: "queued",
        assignedTo: null,
        priority: "normal",
        createdAt: now,
        lastMessageAt: now,
        lastMessagePreview: contact.scenario.opening,
        firstResponseDue: now + contact.scenario.rubric.responseSecs * 1000,
        firstResponseAt: null,
        resolveDue: now + 3_600_000,
        pendingActions: 0,
      }));
      practice = { ...session, startedAt: now, contacts, live };
      watchPatience(true);
      presence = "available";
      agent = {
        code: live.agent?.code ?? "trainee",
        name: live.agent?.name ?? (info.locale === "en" ? "Trainee" : "练习学员"),
        queues: ["practice"],
        locked: false,
        practice: true,
      };
      emit({ type: "changed" });
      return { ...agent };
    },
    async stopPractice() {
      calls.push("stopPractice");
      if (practice) {
        for (const contact of practice.contacts) {
          threads.delete(contact.conversationId);
          drafts.delete(contact.conversationId);
        }
        ({ agent, items, presence } = practice.live);
        practice = null;
        watchPatience(false);
        emit({ type: "changed" });
      }
      return agent ? { ...agent } : null;
    },
    async practiceStatus() {
      calls.push("practiceStatus");
      needAgent();
      tickPractice();
      if (!practice) {
        return {
          active: false,
          title: null,
          exam: false,
          passMark: null,
          contacts: [],
          percent: null,
          passed: null,
        } satisfies PracticeStatus;
      }
      let got = 0;
      let total = 0;
      const contacts = practice.contacts.map((contact) => {
        const report = contact.report();
        got += report.pointsGot;
        total += report.pointsTotal;
        return {
          conversationId: contact.conversationId,
          scenarioId: contact.scenario.id,
          title: contact.scenario.title,
          over: contact.over,
          percent: report.percent,
          passed: report.passed,
        };
      });
      const allOver = contacts.every((c) => c.over);
      return {
        active: true,
        title: practice.title,
        exam: practice.exam,
        passMark: practice.passMark,
        contacts,
        percent: total > 0 ? Math.floor((got * 100) / total) : null,
        passed: allOver ? got * 100 >= practice.passMark * total : null,
      } satisfies PracticeStatus;
    },
    async practiceReport(conversationId) {
      calls.push(`practiceReport:${conversationId}`);
      needAgent();
      tickPractice();
      const contact = contactOf(conversationId);
      if (!practice || !contact) return null;
      const report = contact.report();
      // Like the core: a finished contact goes into the history when its report is read.
      if (contact.over && !contact.saved) {
        contact.saved = true;
        history = [
          {
            id: `practice-${practice.startedAt}-${contact.scenario.id}`,
            scenarioId: contact.scenario.id,
            title: contact.scenario.title,
            packId: practice.packId,
            exam: practice.exam,
            percent: report.percent,
            passed: report.passed,
            finishedAt: Date.now(),
          },
          ...history,
        ];
      }
      // An exam shows no report until every contact is over.
      if (practice.exam && !practice.contacts.every((c) => c.over)) return null;
      return report;
    },
    async practiceHistory() {
      calls.push("practiceHistory");
      return history.map((r) => ({ ...r }));
    },
    async practiceMark(conversationId, mark) {
      const [kind, text] =
        "article" in mark
          ? (["article", mark.article] as const)
          : (["script_step", mark.script_step] as const);
      calls.push(`practiceMark:${conversationId}:${kind}=${text}`);
      needAgent();
      tickPractice();
      // Nothing on a live desk, like the core.
      const contact = contactOf(conversationId);
      if (!contact) return;
      const lines = contact.mark(kind, text, Date.now());
      customerSays(conversationId, lines);
      if (lines.length > 0) emit({ type: "changed" });
    },
  };
}
