// An in-memory host for component tests and for opening the UI in a plain
// browser (`npm run dev`). It behaves like the core: same defaults (zh-CN,
// offline), same validation, same error shape.

import {
  HostError,
  type AppInfo,
  type ConnectionStatus,
  type DeskEvent,
  type Host,
  type Locale,
  type ArticleView,
  type ConversationDetail,
  type Presence,
  type ReplyTemplate,
  type QueueItem,
  type SignedInAgent,
  type ThreadMessage,
} from "./index";

export interface MockHostOptions {
  info?: Partial<AppInfo>;
  connection?: ConnectionStatus;
  /** Makes `setLocale` fail as if the disk refused the write. */
  failSaves?: boolean;
  /** Start signed in as this agent (a resumed session). */
  signedIn?: SignedInAgent;
  /** The conversations the queue holds. */
  queue?: QueueItem[];
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
};
export const MOCK_PASSWORD = "homedesk-demo";

const LOCALES: readonly Locale[] = ["zh-CN", "en"];

export function createMockHost(options: MockHostOptions = {}): Host & {
  calls: string[];
  push(item: QueueItem): void;
  refuse(count: number): void;
  send(event: DeskEvent): void;
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
  };
  const calls: string[] = [];
  let agent: SignedInAgent | null = options.signedIn ?? null;
  let items: QueueItem[] = (options.queue ?? []).map((item) => ({ ...item }));
  const listeners = new Set<(event: DeskEvent) => void>();
  let presence: Presence = "offline";
  const threads = new Map<string, ThreadMessage[]>();
  const drafts = new Map<string, string>();
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
  const needAgent = (): SignedInAgent => {
    if (!agent) throw new HostError("not_signed_in", "nobody is signed in on this workstation");
    return agent;
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
      agent = null;
    },
    async queue(scope) {
      calls.push(`queue:${scope}`);
      const me = needAgent();
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
      const item = items.find((i) => i.id === conversationId);
      if (!item) return null;
      const detail: ConversationDetail = {
        conversation: {
          id: item.id,
          channel: item.channel,
          queue: item.queue,
          customer_id: `cust-${item.id}`,
          subject: item.subject,
          category: null,
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
          city: null,
          orders: [],
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
    /** Test helper: the platform refused `count` actions. */
    refuse(count: number) {
      emit({ type: "conflicts", count });
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
      emit({ type: "changed" });
    },
    async saveDraft(conversationId, body) {
      calls.push(`saveDraft:${conversationId}`);
      if (body === "") drafts.delete(conversationId);
      else drafts.set(conversationId, body);
    },
    async wrapUp(conversationId, disposition) {
      calls.push(`wrapUp:${conversationId}:${disposition}`);
      needAgent();
      items = items.map((i) => (i.id === conversationId ? { ...i, status: "resolved" } : i));
      emit({ type: "changed" });
    },
    async searchArticles(query, limit) {
      calls.push(`searchArticles:${query}`);
      needAgent();
      const q = query.trim();
      if (q === "") return [];
      return ARTICLES.filter(
        (a) =>
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
  };
}
