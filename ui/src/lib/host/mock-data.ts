// Test data for the live desk: a few articles, canned replies, call scripts
// and transfer targets, and `deskAnswers`, plain look-ups over them that a
// test opts into (`createMockHost({ answers: deskAnswers() })`). Look-ups by
// id, prefix or word only: searching, ranking and suggesting are the core's
// (tested in Rust); a test that needs a particular answer sets it itself.

import { MOCK_AGENT, type Answers, type MockHost } from "./mock";
import type {
  ArticleView,
  ConflictView,
  QueueItem,
  ReplyTemplate,
  Script,
  TransferTargets,
} from "./index";

/** Call scripts to show (test data, shaped like content/scripts). */
export const SCRIPTS: Script[] = [
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

/** Where a1001 can transfer a conversation to (the core leaves the agent out). */
export const TRANSFER_TARGETS: TransferTargets = {
  queues: [
    { id: "presales", nameZh: "售前咨询", nameEn: "Pre-sales" },
    { id: "aftersales", nameZh: "售后服务", nameEn: "After-sales" },
  ],
  agents: [
    { code: "a1002", name: "李春梅", presence: "available" },
    { code: "a1003", name: "张伟", presence: "on_break" },
  ],
};

/** Articles to show (test data; the core sanitizes real ones). */
export const ARTICLES: ArticleView[] = [
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

/** Canned replies to offer (test data). */
export const CANNED: ReplyTemplate[] = [
  {
    id: "cr-zh-waiting-check",
    title: "稍等查询",
    shortcut: "sd",
    body: "亲，您的订单{order_no}我正在帮您查询，请稍等1–2分钟哦～",
    fields: [{ name: "order_no", kind: "order_no", required: true, value: "" }],
    attachment: null,
  },
  {
    id: "cr-zh-ship-date",
    title: "预计发货时间",
    shortcut: "fh",
    body: "亲，您的订单预计{date}发出，发出后订单里就能看到快递单号哦～",
    fields: [{ name: "date", kind: "date", required: true, value: "" }],
    attachment: null,
  },
  {
    id: "cr-zh-greeting",
    title: "开场问候",
    shortcut: "nh",
    body: "亲，您好！我是{agent_name}，很高兴为您服务，请问有什么可以帮您？",
    fields: [{ name: "agent_name", kind: "text", required: true, value: "" }],
    attachment: null,
  },
  {
    id: "cr-zh-size-chart",
    title: "发尺码表（带图）",
    shortcut: "cmb",
    body: "亲，这是我们家防晒衣的尺码表，您对照身高体重选就可以～",
    fields: [],
    attachment: {
      id: "5a".repeat(32),
      media_type: "image/png",
      bytes: 31_871,
      width: 640,
      height: 400,
    },
  },
];

/** Answers from the data above, for a signed-in agent named `agentName`. */
export function deskAnswers(agentName = "王秀英"): Answers {
  return {
    searchArticles: async (query, limit) => {
      const q = query.trim();
      return ARTICLES.filter(
        (a) => q !== "" && (a.title.includes(q) || a.tags.some((tag) => tag.includes(q))),
      )
        .slice(0, limit)
        .map((a, rank) => ({
          id: a.id,
          title: a.title,
          snippet: `…<mark>${a.tags[0]}</mark>…`,
          score: 2 - rank / 10,
        }));
    },
    article: async (id) => structuredClone(ARTICLES.find((a) => a.id === id) ?? null),
    searchCannedReplies: async (query, limit) =>
      CANNED.filter((c) => c.shortcut.startsWith(query.trim()) || c.title.includes(query.trim()))
        .slice(0, limit)
        .map((c) => ({ id: c.id, title: c.title, shortcut: c.shortcut, score: 3 })),
    replyTemplate: async (id) => {
      const found = structuredClone(CANNED.find((c) => c.id === id) ?? null);
      const name = found?.fields.find((f) => f.name === "agent_name");
      if (name) name.value = agentName;
      return found;
    },
    scripts: async () =>
      SCRIPTS.filter((s) => s.locale === "zh-CN").map((script, i) => ({
        script: structuredClone(script),
        suggested: i === 0,
      })),
    transferTargets: async () => structuredClone(TRANSFER_TARGETS),
  };
}

/** An action the platform refused (a reply taken over by a1002, unless `fields` say). */
export function conflict(id: number, fields: Partial<ConflictView> = {}): ConflictView {
  return {
    id,
    conversationId: null,
    action: "reply",
    code: "not_assigned",
    params: { holder: "a1002" },
    holderName: "李春梅",
    // As the platform words it, in English: never shown.
    message: "conversation c1 is not assigned to you: it is now assigned to a1002",
    createdAt: Date.now(),
    ...fields,
  };
}

/** `conflicts` answers `list`, and `dismissConflict` takes one off it. */
export function conflictAnswers(list: ConflictView[]): Answers {
  return {
    conflicts: async () => structuredClone(list),
    dismissConflict: async (id) => {
      const at = list.findIndex((c) => c.id === id);
      if (at >= 0) list.splice(at, 1);
    },
  };
}

const refused = new WeakMap<MockHost, ConflictView[]>();

/** The platform refused `count` more actions: `conflicts` lists them, newest first. */
export function refuse(host: MockHost, count: number, fields: Partial<ConflictView> = {}) {
  let list = refused.get(host);
  if (!list) {
    list = [];
    refused.set(host, list);
    Object.assign(host.answers, conflictAnswers(list));
  }
  for (let i = 0; i < count; i += 1) list.unshift(conflict(list.length + 1, fields));
  host.send({ type: "conflicts", count });
}

/**
 * What the queue shows after claim, release, wrap-up and transfer, for UI
 * tests of rows and focus (who may do what is the core's, tested in Rust):
 * the agent's own open rows and the unassigned ones.
 */
export function rowAnswers(host: MockHost) {
  const me = MOCK_AGENT.code;
  const mine = (row: QueueItem) => row.assignedTo === me && row.status !== "resolved";
  const open = (row: QueueItem) => row.assignedTo === null && row.status === "queued";
  host.answers.queue ??= async (scope) =>
    structuredClone(
      host.rows.filter((row) =>
        scope === "mine" ? mine(row) : scope === "unassigned" ? open(row) : mine(row) || open(row),
      ),
    );
  host.answers.claim ??= async (id) => host.update(id, { assignedTo: me, status: "active" });
  host.answers.release ??= async (id) => host.update(id, { assignedTo: null, status: "queued" });
  host.answers.wrapUp ??= async (id) => host.update(id, { status: "resolved" });
  host.answers.transfer ??= async (id, target) =>
    host.update(
      id,
      "queue" in target
        ? { queue: target.queue, assignedTo: null, status: "queued" }
        : { assignedTo: target.agent },
    );
}
