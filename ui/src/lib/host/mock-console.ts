// Test data for the team console, shaped like the demo world
// (content/demo/world.toml: agents a1001–a1005, supervisor s3001 周敏,
// trainee t2001 孙小雨, trainer r4001 吴老师; the four queues), and
// `consoleAnswers`, which a test (or the browser preview) opts into. What
// the platform would answer is data here; the mock only replays it. The
// one thing it keeps is what the core keeps: the last answer of the team
// and trainees views, returned with `live: false` while `world.online` is
// false, so a test can take the link away. Reports, the CSV and promotions
// need the platform and fail with `unreachable` then, as the core does.

import { HostError, type ConversationDetail, type SignedInAgent } from "./index";
import type {
  AgentDay,
  Reports,
  RoleChange,
  TeamView,
  TraineesView,
  TransferTargets,
} from "./index";
import { OUT_OF_REACH, type MockHost } from "./mock";

/** The demo supervisor: the team console over all four queues. */
export const MOCK_SUPERVISOR: SignedInAgent = {
  code: "s3001",
  name: "周敏",
  queues: ["presales", "aftersales", "logistics", "complaints"],
  locked: false,
  practice: false,
  role: "supervisor",
};

/** The demo trainer: the trainees' console only. */
export const MOCK_TRAINER: SignedInAgent = {
  code: "r4001",
  name: "吴老师",
  queues: [],
  locked: false,
  practice: false,
  role: "trainer",
};

const MINUTE = 60_000;

/** The supervisor's team at `now` (platform clock): who holds what, and what is at risk. */
export function teamView(now: number = Date.now()): TeamView {
  return {
    server_time: now,
    agents: [
      {
        code: "a1001",
        name: "王丽",
        role: "agent",
        queues: ["presales", "aftersales"],
        presence: "available",
        presence_reason: null,
        link: "online",
        link_since: now - 125 * MINUTE,
        holding: 2,
        held: [
          {
            conversation_id: "conv-2035",
            subject: "退款一直没到账",
            queue: "aftersales",
            channel: "chat",
            waiting_since: now - 200_000,
          },
          {
            conversation_id: "conv-2039",
            subject: "想改收货地址",
            queue: "presales",
            channel: "ticket",
            waiting_since: null,
          },
        ],
        waiting_since: now - 200_000,
        handled_today: 14,
      },
      {
        code: "a1002",
        name: "陈建国",
        role: "agent",
        queues: ["aftersales", "logistics"],
        presence: "busy",
        presence_reason: null,
        link: "degraded",
        link_since: now - 4 * MINUTE,
        holding: 1,
        held: [
          {
            conversation_id: "conv-2033",
            subject: "橙子坏了三个",
            queue: "aftersales",
            channel: "chat",
            waiting_since: now - 75_000,
          },
        ],
        waiting_since: now - 75_000,
        handled_today: 11,
      },
      {
        code: "a1003",
        name: "刘欣怡",
        role: "agent",
        queues: ["presales", "aftersales", "logistics"],
        presence: "on_break",
        presence_reason: { code: "set_by_supervisor" },
        link: "online",
        link_since: now - 62 * MINUTE,
        holding: 0,
        held: [],
        waiting_since: null,
        handled_today: 9,
      },
      {
        code: "a1004",
        name: "赵海燕",
        role: "agent",
        queues: ["aftersales", "complaints"],
        presence: "available",
        presence_reason: null,
        link: "offline",
        link_since: now - 12 * MINUTE,
        holding: 1,
        held: [
          {
            conversation_id: "conv-2030",
            subject: "请回电：快递破损",
            queue: "complaints",
            channel: "phone",
            waiting_since: now - 9 * MINUTE,
          },
        ],
        waiting_since: now - 9 * MINUTE,
        handled_today: 6,
      },
      {
        code: "a1005",
        name: "黄志强",
        role: "agent",
        queues: ["logistics", "presales"],
        presence: "offline",
        presence_reason: null,
        link: "offline",
        link_since: null,
        holding: 0,
        held: [],
        waiting_since: null,
        handled_today: 0,
      },
      {
        code: "s3001",
        name: "周敏",
        role: "supervisor",
        queues: ["presales", "aftersales", "logistics", "complaints"],
        presence: "offline",
        presence_reason: null,
        link: "online",
        link_since: now - 30 * MINUTE,
        holding: 0,
        held: [],
        waiting_since: null,
        handled_today: 0,
      },
    ],
    queues: [
      {
        id: "presales",
        name: "售前咨询",
        depth: 3,
        oldest_waiting_since: now - 150_000,
        at_risk: [
          {
            conversation_id: "conv-2041",
            subject: "砀山酥梨能发顺丰吗",
            assigned_to: null,
            target: "first_response",
            due_at: now + 40_000,
          },
        ],
      },
      {
        id: "aftersales",
        name: "售后服务",
        depth: 1,
        oldest_waiting_since: now - MINUTE,
        at_risk: [
          {
            conversation_id: "conv-2033",
            subject: "橙子坏了三个",
            assigned_to: "a1002",
            target: "first_response",
            due_at: now - 90_000,
          },
          {
            conversation_id: "conv-2035",
            subject: "退款一直没到账",
            assigned_to: "a1001",
            target: "resolve",
            due_at: now + 4 * MINUTE,
          },
        ],
      },
      {
        id: "logistics",
        name: "物流查询",
        depth: 0,
        oldest_waiting_since: null,
        at_risk: [],
      },
      {
        id: "complaints",
        name: "投诉处理",
        depth: 0,
        oldest_waiting_since: null,
        at_risk: [
          {
            conversation_id: "conv-2029",
            subject: "快递员态度差，要投诉",
            assigned_to: "a1004",
            target: "first_response",
            due_at: now - 6 * MINUTE,
          },
        ],
      },
    ],
  };
}

const DAY = 86_400_000;

/** Every trainee's practice so far, as a trainer reads it at `now`. */
export function traineesView(now: number = Date.now()): TraineesView {
  const apologise = {
    scenario_id: "sc-zh-rotten-peaches",
    scenario_title: "直播间买的水蜜桃烂了，客户很生气",
    item_id: "apologise",
    description: "先向客户道歉，再说怎么处理",
    missed: 3,
    judged: 4,
  };
  const orderNo = {
    scenario_id: "sc-zh-where-parcel",
    scenario_title: "我的快递到哪了",
    item_id: "check-order",
    description: "先核对订单号和收件人",
    missed: 2,
    judged: 5,
  };
  const refundTime = {
    scenario_id: "sc-zh-refund-not-received",
    scenario_title: "退款显示成功了，钱没到（电话回访）",
    item_id: "refund-time",
    description: "讲清楚退款原路退回要几个工作日",
    missed: 2,
    judged: 2,
  };
  return {
    server_time: now,
    trainees: [
      {
        code: "t2001",
        name: "孙小雨",
        results: [
          result("sc-zh-where-parcel", "我的快递到哪了", false, 55, false, now - 6 * DAY),
          result(
            "sc-zh-rotten-peaches",
            "直播间买的水蜜桃烂了，客户很生气",
            false,
            68,
            true,
            now - 5 * DAY,
          ),
          result(
            "sc-zh-coupon-expired",
            "直播间的券过期了，能补吗",
            false,
            74,
            true,
            now - 3 * DAY,
          ),
          result("sc-zh-where-parcel", "我的快递到哪了", false, 81, true, now - 2 * DAY),
          result("sc-zh-where-parcel", "我的快递到哪了", true, 88, true, now - DAY),
        ],
        exams_passed: 1,
        missed: [apologise, orderNo],
        untried: [
          { id: "sc-zh-invoice-company", title: "公司报销要开专用抬头发票，还想开成“办公用品”" },
          { id: "sc-zh-size-exchange", title: "牛仔裤腰大了，想换小一码" },
        ],
        can_promote: true,
      },
      {
        code: "t2002",
        name: "高静",
        results: [
          result(
            "sc-zh-rotten-peaches",
            "直播间买的水蜜桃烂了，客户很生气",
            false,
            48,
            false,
            now - 2 * DAY,
          ),
          result(
            "sc-zh-refund-not-received",
            "退款显示成功了，钱没到（电话回访）",
            false,
            57,
            false,
            now - 4 * 3_600_000,
          ),
        ],
        exams_passed: 0,
        missed: [{ ...apologise, missed: 2, judged: 2 }, refundTime],
        untried: [
          { id: "sc-zh-where-parcel", title: "我的快递到哪了" },
          { id: "sc-zh-coupon-expired", title: "直播间的券过期了，能补吗" },
          { id: "sc-zh-double-charge", title: "支付宝扣了两次钱" },
        ],
        can_promote: false,
      },
    ],
    most_missed: [{ ...apologise, missed: 5, judged: 6 }, orderNo, refundTime],
    queues: [
      { id: "presales", title: "售前咨询" },
      { id: "aftersales", title: "售后服务" },
      { id: "logistics", title: "物流查询" },
      { id: "complaints", title: "投诉处理" },
    ],
  };
}

function result(
  scenario_id: string,
  scenario_title: string,
  exam: boolean,
  percent: number,
  passed: boolean,
  finished_at: number,
) {
  return { scenario_id, scenario_title, exam, percent, passed, finished_at };
}

const AGENTS: [string, string][] = [
  ["a1001", "王丽"],
  ["a1002", "陈建国"],
  ["a1003", "刘欣怡"],
  ["a1004", "赵海燕"],
  ["a1005", "黄志强"],
];

/** The days `from` to `to` (`YYYY-MM-DD`), both included. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let at = Date.parse(`${from}T00:00:00Z`); at <= end && days.length <= 92; at += DAY) {
    days.push(new Date(at).toISOString().slice(0, 10));
  }
  return days;
}

/** A report over `from`..`to`: made-up but steady figures (a day without work has no row). */
export function reportsFor(from: string, to: string): Reports {
  const rows: AgentDay[] = [];
  daysBetween(from, to).forEach((day, d) => {
    AGENTS.forEach(([agent, name], a) => {
      // 黄志强 works every other day.
      if (agent === "a1005" && d % 2 === 1) return;
      const handled = 6 + ((d * 7 + a * 5) % 11);
      rows.push({
        agent,
        name,
        day,
        handled,
        average_handle_secs: 240 + ((d * 37 + a * 53) % 300),
        average_first_response_secs: 20 + ((d * 13 + a * 7) % 70),
        sla_kept: handled - ((d + a) % 3),
        after_contact_secs: handled * (30 + ((d + a * 3) % 40)),
      });
    });
  });
  return { from, to, utc_offset_minutes: 480, rows };
}

/** Where the supervisor can send a conversation (the core leaves them out). */
export const CONSOLE_TARGETS: TransferTargets = {
  queues: [
    { id: "presales", nameZh: "售前咨询", nameEn: "Pre-sales" },
    { id: "aftersales", nameZh: "售后服务", nameEn: "After-sales" },
    { id: "logistics", nameZh: "物流查询", nameEn: "Logistics" },
    { id: "complaints", nameZh: "投诉处理", nameEn: "Complaints" },
  ],
  agents: [
    { code: "a1001", name: "王丽", presence: "available" },
    { code: "a1002", name: "陈建国", presence: "busy" },
    { code: "a1003", name: "刘欣怡", presence: "on_break" },
    { code: "a1004", name: "赵海燕", presence: "available" },
    { code: "a1005", name: "黄志强", presence: "offline" },
  ],
};

/** The conversations the team view lists at risk, with their threads. */
export function consoleConversations(now: number = Date.now()): ConversationDetail[] {
  const at = (minutesAgo: number) => now - minutesAgo * MINUTE;
  return [
    detail("conv-2033", "aftersales", "橙子坏了三个", "a1002", "张建华", at(3), [
      ["customer", null, "text", "我买的橙子坏了三个，怎么处理？", at(3)],
      ["customer", null, "text", "照片发你们了，人呢？", at(1.5)],
    ]),
    detail("conv-2035", "aftersales", "退款一直没到账", "a1001", "刘芳", at(50), [
      ["customer", null, "text", "退款显示成功了，钱一直没到账", at(50)],
      ["agent", "a1001", "text", "亲，退款原路退回，一般1–3个工作日到账，我帮您查一下哦～", at(48)],
      ["agent", "a1001", "note", "已提交财务核实，等回复", at(40)],
    ]),
    detail("conv-2041", "presales", "砀山酥梨能发顺丰吗", null, "王先生", at(1), [
      ["customer", null, "text", "砀山酥梨能发顺丰吗？想寄给我妈", at(1)],
    ]),
    detail("conv-2029", "complaints", "快递员态度差，要投诉", "a1004", "杨国强", at(9), [
      ["customer", null, "text", "快递员打电话骂人，我要投诉！", at(9)],
    ]),
  ];
}

type Line = ["customer" | "agent", string | null, "text" | "note", string, number];

function detail(
  id: string,
  queue: string,
  subject: string,
  assignedTo: string | null,
  customer: string,
  created: number,
  lines: Line[],
): ConversationDetail {
  const last = lines[lines.length - 1]!;
  return {
    conversation: {
      id,
      channel: "chat",
      queue,
      customer_id: `cust-${id}`,
      subject,
      category: null,
      status: assignedTo === null ? "queued" : "active",
      assigned_to: assignedTo,
      priority: "normal",
      created_at: created,
      first_response_due: created + MINUTE,
      resolve_due: created + 2 * DAY,
      first_response_at: lines.some((l) => l[0] === "agent" && l[2] === "text") ? created : null,
      last_message_at: last[4],
      last_message_preview: last[3],
      disposition: null,
      version: 1,
    },
    customer: {
      id: `cust-${id}`,
      name: customer,
      phone_masked: "139****0002",
      city: "成都",
      orders: [],
    },
    messages: lines.map(([author, agent, kind, body, sent_at], i) => ({
      id: `${id}-m${i}`,
      conversation_id: id,
      author,
      agent,
      kind,
      body,
      sent_at,
      pending: false,
      attachments: [],
      delivery: null,
    })),
    draft: null,
    draft_attachments: [],
  };
}

/** A kept answer: what the core has on this PC, and when it was fetched (PC clock). */
export interface Kept<V> {
  view: V;
  at: number;
}

/** The platform as the console mock plays it; a test changes it as it goes. */
export interface ConsoleWorld {
  /** What `consoleTeam` answers while online (re-read at every call). */
  team: TeamView;
  trainees: TraineesView;
  /** Conversations `conversation` and `openConversation` answer with. */
  conversations: ConversationDetail[];
  /** false: the platform is out of reach (the kept answers, or failures). */
  online: boolean;
  /** The last answers kept on this PC; a test may age them. */
  kept: { team: Kept<TeamView> | null; trainees: Kept<TraineesView> | null };
  /** The folder `consoleExportReports` says it saved into. */
  downloads: string;
}

/**
 * Answers the console commands from `world` (the demo team by default):
 * the team and trainees views, reports and their CSV, promotions, the
 * supervisor's transfer targets and the listed conversations.
 */
export function consoleAnswers(host: MockHost, world: Partial<ConsoleWorld> = {}): ConsoleWorld {
  const w: ConsoleWorld = {
    team: teamView(),
    trainees: traineesView(),
    conversations: consoleConversations(),
    online: true,
    kept: { team: null, trainees: null },
    downloads: "/home/zhoumin/下载",
    ...world,
  };
  const offline = () => new HostError("unreachable", OUT_OF_REACH);
  host.answers.consoleTeam = async () => {
    if (w.online) {
      w.kept.team = { view: structuredClone(w.team), at: Date.now() };
      return {
        view: structuredClone(w.team),
        fetchedAt: w.kept.team.at,
        live: true,
        problem: null,
      };
    }
    const kept = w.kept.team;
    return {
      view: kept ? structuredClone(kept.view) : null,
      fetchedAt: kept?.at ?? null,
      live: false,
      problem: OUT_OF_REACH,
    };
  };
  host.answers.consoleTrainees = async () => {
    if (w.online) {
      w.kept.trainees = { view: structuredClone(w.trainees), at: Date.now() };
      return {
        view: structuredClone(w.trainees),
        fetchedAt: w.kept.trainees.at,
        live: true,
        problem: null,
      };
    }
    const kept = w.kept.trainees;
    return {
      view: kept ? structuredClone(kept.view) : null,
      fetchedAt: kept?.at ?? null,
      live: false,
      problem: OUT_OF_REACH,
    };
  };
  host.answers.consoleReports = async (from, to) => {
    if (!w.online) throw offline();
    return reportsFor(from, to);
  };
  host.answers.consoleExportReports = async (from, to) => {
    if (!w.online) throw offline();
    return `${w.downloads}/homedesk-report-${from}-${to}.csv`;
  };
  host.answers.consolePromote = async (trainee, queues) => {
    if (!w.online) throw offline();
    // The platform's record of it; the trainee is an agent from now on.
    w.trainees.trainees = w.trainees.trainees.filter((t) => t.code !== trainee);
    const change: RoleChange = {
      agent: trainee,
      from: "trainee",
      to: "agent",
      queues: [...queues],
      changed_by: "r4001",
      changed_at: Date.now(),
    };
    return change;
  };
  host.answers.transferTargets = async () => structuredClone(CONSOLE_TARGETS);
  host.answers.conversation = async (id) =>
    structuredClone(w.conversations.find((c) => c.conversation.id === id) ?? null);
  host.answers.openConversation = async (id) => {
    const found = w.conversations.find((c) => c.conversation.id === id);
    if (!found) throw new HostError("not_found", `no conversation ${id} in the mock`);
    return structuredClone(found);
  };
  return w;
}
