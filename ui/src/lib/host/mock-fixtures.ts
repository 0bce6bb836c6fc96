// What the mock host answers with: recordings of the real practice engine
// and its practice catalogue (fixtures/*.json, written by
// crates/core/tests/practice_fixtures.rs; `make fixtures`), the demo agent,
// the core's default preferences, and builders for a live conversation's
// detail. Data only: nothing here decides anything.

import type {
  ArticleView,
  ConversationDetail,
  Customer,
  Locale,
  PracticeCatalog,
  PracticeChoice,
  PracticeMark,
  PracticeResult,
  PracticeStatus,
  Preferences,
  QueueItem,
  ScoreReport,
  ScriptChoice,
  SearchHit,
  SignedInAgent,
  ThreadMessage,
} from "./index";

/** One trainee action of a recording, as the Rust test wrote it. */
export type PracticeStep =
  | { call: "claim"; conversationId: string }
  | { call: "reply"; conversationId: string; body: string }
  | { call: "practiceMark"; conversationId: string; mark: PracticeMark }
  | { call: "wrapUp"; conversationId: string; disposition: string };

/** What the host answered at one moment of a recorded practice session. */
export interface PracticeFrame {
  after: PracticeStep | null;
  atSecs: number;
  status: PracticeStatus;
  queue: QueueItem[];
  conversations: Record<string, ConversationDetail>;
  reports: Record<string, ScoreReport | null>;
  history: PracticeResult[];
}

/** A practice session played on the real engine (fixtures/practice.NAME.json). */
export interface PracticeRecording {
  name: string;
  locale: Locale;
  choice: PracticeChoice;
  trainee: SignedInAgent;
  scripts: Record<string, ScriptChoice[]>;
  searches: Record<string, SearchHit[]>;
  articles: Record<string, ArticleView>;
  frames: PracticeFrame[];
}

const files = import.meta.glob<{ default: unknown }>("./fixtures/*.json", { eager: true });
const fixture = <T>(name: string): T => {
  const file = files[`./fixtures/${name}.json`];
  if (!file) throw new Error(`no fixture ${name}: run \`make fixtures\``);
  return structuredClone(file.default) as T;
};

/** A recorded practice session by name (e.g. "where-parcel"). */
export const recording = (name: string): PracticeRecording =>
  fixture<PracticeRecording>(`practice.${name}`);

/** The practice catalogue the core lists for the bundled content. */
export const catalog = (locale: Locale): PracticeCatalog =>
  fixture<PracticeCatalog>(`catalog.${locale}`);

/** The demo agent, and the password the default `unlock` accepts. */
export const MOCK_AGENT: SignedInAgent = {
  code: "a1001",
  name: "王秀英",
  queues: ["presales", "aftersales"],
  locked: false,
  practice: false,
  role: "agent",
};
export const MOCK_PASSWORD = "homedesk-demo";

/** The core's defaults for a workstation that never saved preferences. */
export const DEFAULT_PREFERENCES: Preferences = {
  textSize: "normal",
  highContrast: false,
  reducedMotion: false,
  lockAfterMinutes: 5,
  notifications: true,
  sound: true,
  sendKey: "enter",
  monthlyDataBudgetMb: 0,
  metered: false,
};

/** A thread message (for `host.messages`). */
export function message(
  conversationId: string,
  body: string,
  fields: Partial<ThreadMessage> = {},
): ThreadMessage {
  return {
    id: `${conversationId}-${body}`,
    conversation_id: conversationId,
    author: "agent",
    agent: MOCK_AGENT.code,
    kind: "text",
    body,
    sent_at: Date.now(),
    pending: true,
    attachments: [],
    delivery: null,
    ...fields,
  };
}

/** A conversation's detail for a queue row: one customer message, one order. */
export function detailOf(item: QueueItem, customer: Partial<Customer> = {}): ConversationDetail {
  return {
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
      ...customer,
    },
    messages: [
      {
        id: `${item.id}-m0`,
        conversation_id: item.id,
        author: "customer",
        agent: null,
        kind: "text",
        body: item.lastMessagePreview,
        sent_at: item.lastMessageAt,
        pending: false,
        attachments: [],
        delivery: null,
      },
    ],
    draft: null,
    draft_attachments: [],
  };
}
