// The team console's host API types (supervisors and trainers), generated
// from Rust into ./bindings. (Kept as one import point, like pending-types.ts.)

export type { Role } from "./bindings/Role";
export type { TeamSnapshot } from "./bindings/TeamSnapshot";
export type { TeamView } from "./bindings/TeamView";
export type { TeamAgent } from "./bindings/TeamAgent";
export type { TeamQueue } from "./bindings/TeamQueue";
export type { AtRiskContact } from "./bindings/AtRiskContact";
export type { LinkState } from "./bindings/LinkState";
export type { SlaTarget } from "./bindings/SlaTarget";
export type { TraineesSnapshot } from "./bindings/TraineesSnapshot";
export type { TraineesView } from "./bindings/TraineesView";
export type { TraineeProgress } from "./bindings/TraineeProgress";
export type { TraineeResult } from "./bindings/TraineeResult";
export type { MissedItem } from "./bindings/MissedItem";
export type { ScenarioRef } from "./bindings/ScenarioRef";
export type { RoleChange } from "./bindings/RoleChange";
export type { Reports } from "./bindings/Reports";
export type { AgentDay } from "./bindings/AgentDay";
