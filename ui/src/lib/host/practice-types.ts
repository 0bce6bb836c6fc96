// The practice-mode host API types, generated from Rust into ./bindings.
// (Kept as one import point, like pending-types.ts.)

import type { PracticeScenario } from "./bindings/PracticeScenario";

export type { PracticeScenario };
export type { PracticePack } from "./bindings/PracticePack";
export type { PracticeCatalog } from "./bindings/PracticeCatalog";
export type { PracticeChoice } from "./bindings/PracticeChoice";
export type { PracticeContact } from "./bindings/PracticeContact";
export type { PracticeStatus } from "./bindings/PracticeStatus";
export type { PracticeResult } from "./bindings/PracticeResult";
export type { PracticeMark } from "./bindings/PracticeMark";
export type { ScoreReport } from "./bindings/ScoreReport";
export type { RubricResult } from "./bindings/RubricResult";
export type { ResponseTime } from "./bindings/ResponseTime";
export type { ReplayEntry } from "./bindings/ReplayEntry";
export type { ReplayKind } from "./bindings/ReplayKind";
export type { CheckKind } from "./bindings/CheckKind";

/** How hard a scenario is. */
export type Level = PracticeScenario["level"];
