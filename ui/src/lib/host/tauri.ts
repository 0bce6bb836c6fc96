// The host inside the Tauri shell: one typed wrapper per command of
// src-tauri/src/commands.rs. The names are declared once, in
// src-tauri/src/command_list.rs; a shell test fails unless this file calls
// each of them (as a string literal passed to `call`) and no other, each
// with the parameters of its Rust function as the keys of a flat object
// (camelCase: `conversation_id` there is `conversationId` here).

import { convertFileSrc, invoke, type InvokeArgs, type InvokeOptions } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { toHostError, type DeskEvent, type Host, type Notice, type UpdateStatus } from "./index";

/** The desk's event (src-tauri/src/events.rs). */
const DESK_EVENT = "homedesk://desk";
/** A notification the OS could not show, to show in the app instead. */
const NOTICE_EVENT = "homedesk://notice";

/** The update status (src-tauri/src/updater.rs). */
const UPDATE_EVENT = "homedesk://update";

/** The shell's scheme for photos (src-tauri/src/media.rs). */
const MEDIA_SCHEME = "homedesk-media";

async function call<T>(command: string, args?: InvokeArgs, options?: InvokeOptions): Promise<T> {
  try {
    return await invoke<T>(command, args, options);
  } catch (reason) {
    throw toHostError(reason);
  }
}

export const tauriHost: Host = {
  appInfo: () => call("app_info"),
  setLocale: (locale) => call("set_locale", { locale }),
  connectionStatus: () => call("connection_status"),
  signInDefaults: () => call("sign_in_defaults"),
  signedIn: () => call("signed_in"),
  signIn: (platformUrl, agent, password) => call("sign_in", { platformUrl, agent, password }),
  signOut: () => call("sign_out"),
  queue: (scope) => call("queue", { scope }),
  claim: (conversationId) => call("claim", { conversationId }),
  conversation: (conversationId) => call("conversation", { conversationId }),
  openConversation: (conversationId) => call("open_conversation", { conversationId }),
  release: (conversationId) => call("release", { conversationId }),
  note: (conversationId, body) => call("note", { conversationId, body }),
  acceptOffer: (offerId) => call("accept_offer", { offerId }),
  declineOffer: (offerId) => call("decline_offer", { offerId }),
  presence: () => call("presence"),
  setPresence: (presence) => call("set_presence", { presence }),
  reply: (conversationId, body, attachments) =>
    call("reply", { conversationId, body, attachments }),
  // The photo goes as the raw body (not a JSON array of 5 MB of numbers).
  attachPhoto: (conversationId, bytes) =>
    call("attach_photo", bytes, { headers: { "Homedesk-Conversation": conversationId } }),
  attachCannedPhoto: (conversationId, cannedId) =>
    call("attach_canned_photo", { conversationId, cannedId }),
  removePhoto: (conversationId, photoId) => call("remove_photo", { conversationId, photoId }),
  // `homedesk-media://localhost/…` on Linux and macOS, `http://homedesk-media.localhost/…` on Windows.
  mediaUrl: (kind, photoId) => convertFileSrc(`${kind}/${photoId}`, MEDIA_SCHEME),
  saveDraft: (conversationId, body) => call("save_draft", { conversationId, body }),
  wrapUp: (conversationId, disposition, note, afterContactSecs) =>
    call("wrap_up", { conversationId, disposition, note, afterContactSecs }),
  logCall: (conversationId, startedAt, endedAt) =>
    call("log_call", { conversationId, startedAt, endedAt }),
  scripts: (conversationId) => call("scripts", { conversationId }),
  transferTargets: () => call("transfer_targets"),
  transfer: (conversationId, target) => call("transfer", { conversationId, target }),
  setFocusedConversation: (conversationId) => call("set_focused_conversation", { conversationId }),
  recentArticles: (limit) => call("recent_articles", { limit }),
  openLink: (address) => call("open_link", { address }),
  searchArticles: (query, limit) => call("search_articles", { query, limit }),
  article: (articleId) => call("article", { articleId }),
  searchCannedReplies: (query, limit) => call("search_canned_replies", { query, limit }),
  replyTemplate: (cannedId, conversationId) => call("reply_template", { cannedId, conversationId }),
  onDeskEvent: async (listener) => {
    const stop = await listen<DeskEvent>(DESK_EVENT, (event) => listener(event.payload));
    return stop;
  },
  consoleTeam: () => call("console_team"),
  consoleTrainees: () => call("console_trainees"),
  consoleReports: (from, to) => call("console_reports", { from, to }),
  consoleExportReports: (from, to) => call("console_export_reports", { from, to }),
  consolePromote: (trainee, queues) => call("console_promote", { trainee, queues }),
  setAgentPresence: (agent, presence) => call("set_agent_presence", { agent, presence }),
  myDay: () => call("my_day"),
  preferences: () => call("preferences"),
  setPreferences: (preferences) => call("set_preferences", { preferences }),
  allowKbUpdate: () => call("allow_kb_update"),
  lock: () => call("lock"),
  unlock: (password) => call("unlock", { password }),
  unlockAs: (agent, password) => call("unlock_as", { agent, password }),
  switchUser: () => call("switch_user"),
  knownAgents: () => call("known_agents"),
  conflicts: () => call("conflicts"),
  dismissConflict: (id) => call("dismiss_conflict", { id }),
  onNotice: async (listener) => {
    const stop = await listen<Notice>(NOTICE_EVENT, (event) => listener(event.payload));
    return stop;
  },
  practiceCatalog: () => call("practice_catalog"),
  startPractice: (choice) => call("start_practice", { choice }),
  stopPractice: () => call("stop_practice"),
  practiceStatus: () => call("practice_status"),
  practiceReport: (conversationId) => call("practice_report", { conversationId }),
  practiceHistory: () => call("practice_history"),
  practiceMark: (conversationId, mark) => call("practice_mark", { conversationId, mark }),
  updateStatus: () => call("update_status"),
  checkForUpdate: () => call("check_for_update"),
  installUpdate: () => call("install_update"),
  onUpdate: async (listener) => {
    const stop = await listen<UpdateStatus>(UPDATE_EVENT, (event) => listener(event.payload));
    return stop;
  },
};
