// Interface text in English. Must have exactly the keys of zh-CN.ts (the type
// enforces it) and the same {placeholders} (i18n.test.ts checks).

import type { Messages } from "./zh-CN";

export const en: Messages = {
  "app.title": "Homedesk Agent Desk",
  "app.version": "Version {version}",
  "app.loading": "Loading…",

  "language.label": "Language",

  "queue.heading": "Queue",
  "queue.caption": "Conversations assigned to me and unclaimed ones in my team's queues",
  "queue.column.channel": "Channel",
  "queue.column.customer": "Customer",
  "queue.column.lastMessage": "Last message",
  "queue.column.waiting": "Waiting",
  "queue.column.sla": "Time left",
  "queue.empty":
    "No conversations yet. Once you are connected to the platform, conversations assigned to you and unclaimed ones appear here.",
  "queue.column.action": "Action",
  "queue.scope.label": "Which conversations to show",
  "queue.scope.all": "All",
  "queue.scope.mine": "Mine",
  "queue.scope.unassigned": "Unassigned",
  "queue.minutes": "{n} min",
  "queue.hours": "{h} h {m} min",
  "queue.slaMissed": "Overdue",
  "queue.claim": "Claim",
  "queue.claimLabel": "Claim the conversation with {customer}",
  "queue.sending": "Sending",
  "queue.mine": "Mine",

  "queue.open": "Open",
  "queue.openLabel": "Open the conversation with {customer}",

  "conversation.phone": "Phone {phone}",
  "conversation.close": "Close",
  "conversation.thread": "Conversation history",
  "conversation.customer": "Customer",
  "conversation.me": "Me",
  "conversation.note": "Internal note",
  "conversation.pending": "Sending",
  "conversation.reply": "Reply to the customer",
  "conversation.send": "Send",
  "conversation.disposition": "Outcome",
  "conversation.resolve": "Resolve",
  "conversation.release": "Back to the queue",
  "conflict.message":
    "{count} action(s) could not be delivered (a colleague may have taken the conversation). Your reply text is back in the composer; open the conversation to see it.",
  "disposition.resolved": "Resolved",
  "disposition.refund_issued": "Refund issued",
  "disposition.exchange_arranged": "Exchange arranged",
  "disposition.info_given": "Information given",
  "disposition.escalated": "Escalated",
  "disposition.callback_scheduled": "Call-back scheduled",
  "disposition.no_response": "No response",
  "disposition.spam": "Spam / not genuine",

  "canned.suggestions": "Canned replies",
  "canned.required": "required",
  "canned.fillRequired": "Fill in the required fields first",
  "canned.use": "Put in the reply box",
  "canned.cancel": "Cancel",
  "placeholder.text": "Text",
  "placeholder.order_no": "Order number",
  "placeholder.date": "Date",
  "placeholder.amount": "Amount (yuan)",
  "placeholder.phone": "Phone",

  "knowledge.heading": "Knowledge base",
  "knowledge.search": "Search the knowledge base",
  "knowledge.placeholder": "Chinese, pinyin or English, e.g. 退款, tk, refund",
  "knowledge.none": "No matching articles. Try other words.",
  "knowledge.closeArticle": "Close the article",

  "channel.chat": "Chat",
  "channel.phone": "Call-back",
  "channel.ticket": "Ticket",

  "signIn.heading": "Sign in",
  "signIn.platform": "Platform address",
  "signIn.agent": "Agent code",
  "signIn.password": "Password",
  "signIn.submit": "Sign in",
  "signIn.busy": "Signing in…",
  "agent.signedInAs": "Signed in: {name} ({code})",
  "agent.signOut": "Sign out",
  "offer.title": "A new customer is offered to you",
  "offer.secondsLeft": "accept within {n} s",
  "offer.accept": "Accept",
  "offer.decline": "Not this one",
  "presence.label": "Status",
  "presence.available": "Available",
  "presence.busy": "Busy",
  "presence.on_break": "On break",
  "presence.offline": "Offline",
  "conversation.asNote": "Internal note (the customer does not see it)",

  "connection.label": "Connection",
  "connection.online": "Online",
  "connection.degraded": "Unstable",
  "connection.offline": "Offline",
  "connection.pending": "{count} waiting to send",
  "connection.lastSync": "Last sync {time}",
  "connection.signInNeeded":
    "Your sign-in has expired. Please sign in again; unsent actions are kept.",
  "connection.offlineHint":
    "You can keep working offline; your actions are sent when the connection returns.",

  "error.invalid_input": "That did not work: the input was not accepted.",
  "error.storage":
    "Could not save: the disk refused the write. Check free disk space and try again.",
  "error.wrong_password": "Wrong agent code or password. Check both and try again.",
  "error.unreachable":
    "Cannot reach the platform. Check the network and the platform address; you can keep working offline.",
  "error.untrusted_certificate":
    "The platform's security certificate is not trusted. Check the platform address, or ask your trainer for the right certificate file.",
  "error.platform": "The platform sent an answer the app cannot use. Try again later.",
  "error.not_signed_in": "Nobody is signed in yet. Please sign in first.",
  "error.ipc": "Something went wrong inside the app. Restart Homedesk and try again.",
  "error.dismiss": "OK",
};
