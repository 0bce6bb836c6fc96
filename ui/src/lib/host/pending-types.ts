// The session-4 host API types, generated from Rust into ./bindings.
// (Kept as one import point; new code may import from ./bindings directly.)

export type { ScriptBranch } from "./bindings/ScriptBranch";
export type { ScriptStep } from "./bindings/ScriptStep";
export type { Script } from "./bindings/Script";
export type { ScriptChoice } from "./bindings/ScriptChoice";
export type { TransferQueue } from "./bindings/TransferQueue";
export type { TransferAgent } from "./bindings/TransferAgent";
export type { TransferTargets } from "./bindings/TransferTargets";
export type { TransferTarget } from "./bindings/TransferTarget";
export type { MyDay } from "./bindings/MyDay";
export type { TextSize } from "./bindings/TextSize";
export type { SendKey } from "./bindings/SendKey";
export type { Preferences } from "./bindings/Preferences";
export type { ConflictView } from "./bindings/ConflictView";
export type { RecentArticle } from "./bindings/RecentArticle";
export type { NoticeKind } from "./bindings/NoticeKind";
export type { Notice } from "./bindings/Notice";
