// Types of the session-4 host API, declared by hand until the Rust side
// generates them into ./bindings (then this file goes away).

import type { Presence } from "./bindings/Presence";

export type ScriptBranch = { label: string; next: string };
export type ScriptStep = {
  id: string;
  text: string;
  checkpoint: boolean;
  branches: ScriptBranch[];
};
export type Script = {
  id: string;
  locale: string;
  title: string;
  category: string;
  keywords: string[];
  start: string;
  steps: ScriptStep[];
};
/** A guided call script offered for a conversation; suggested ones come first. */
export type ScriptChoice = { script: Script; suggested: boolean };

export type TransferQueue = { id: string; nameZh: string; nameEn: string };
export type TransferAgent = { code: string; name: string; presence: Presence };
export type TransferTargets = { queues: TransferQueue[]; agents: TransferAgent[] };
export type TransferTarget = { queue: string } | { agent: string };

/** Today's figures for the signed-in agent (local day of the workstation). */
export type MyDay = {
  handled: number;
  averageHandleSecs: number | null;
  averageFirstResponseSecs: number | null;
  slaKept: number;
  slaTotal: number;
};

export type TextSize = "normal" | "large" | "larger";
export type Preferences = {
  textSize: TextSize;
  highContrast: boolean;
  reducedMotion: boolean;
  lockAfterMinutes: number;
  notifications: boolean;
  sound: boolean;
};

export type ConflictView = {
  id: number;
  conversationId: string | null;
  action: string;
  code: string | null;
  message: string;
  createdAt: number;
};

export type RecentArticle = { id: string; title: string; openedAt: number };

export type NoticeKind = "offer" | "message" | "sla";
/** A notification the OS could not show (no notification service): shown in the app. */
export type Notice = {
  kind: NoticeKind;
  conversationId: string | null;
  title: string;
  body: string;
};
