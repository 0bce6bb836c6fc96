// The host: everything the UI asks of the desktop shell, in one typed place.
//
// This folder is the ONLY code that imports `@tauri-apps/*` (see
// ARCHITECTURE.md). Components receive a `Host` and never call `invoke`
// themselves, so they run unchanged against the mock host in tests and in a
// plain browser.

import type { AppInfo } from "./bindings/AppInfo";
import type { ConnectionStatus } from "./bindings/ConnectionStatus";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { Locale } from "./bindings/Locale";

export type { AppInfo, ConnectionStatus, ErrorCode, Locale };
export type { ConnectionState } from "./bindings/ConnectionState";

export interface Host {
  /** Name, version, data folder and the saved interface language. */
  appInfo(): Promise<AppInfo>;
  /** Saves the interface language; resolves with the updated info. */
  setLocale(locale: Locale): Promise<AppInfo>;
  /** Online / degraded / offline, and how many actions wait to be sent. */
  connectionStatus(): Promise<ConnectionStatus>;
}

/**
 * Codes a host call can fail with: the core's closed `ErrorCode`, plus `ipc`
 * when the call never reached the core (not permitted, shell not running).
 */
export type HostErrorCode = ErrorCode | "ipc";

/** A failed host call. Branch on `code`; show `message` only as detail. */
export class HostError extends Error {
  readonly code: HostErrorCode;

  constructor(code: HostErrorCode, message: string) {
    super(message);
    this.name = "HostError";
    this.code = code;
  }
}

const CORE_CODES: readonly string[] = [
  "invalid_input",
  "storage",
  "wrong_password",
  "unreachable",
  "untrusted_certificate",
  "platform",
] satisfies ErrorCode[];

/** Turns whatever a rejected IPC call gave us into a `HostError`. */
export function toHostError(reason: unknown): HostError {
  if (reason instanceof HostError) return reason;
  if (typeof reason === "object" && reason !== null && "code" in reason && "message" in reason) {
    const { code, message } = reason as { code: unknown; message: unknown };
    if (typeof code === "string" && CORE_CODES.includes(code) && typeof message === "string") {
      return new HostError(code as ErrorCode, message);
    }
  }
  const text = reason instanceof Error ? reason.message : String(reason);
  return new HostError("ipc", text);
}

/** The host for this page: the Tauri shell when inside it, else the mock. */
export async function detectHost(): Promise<Host> {
  const { isTauri } = await import("@tauri-apps/api/core");
  if (isTauri()) {
    const { tauriHost } = await import("./tauri");
    return tauriHost;
  }
  const { createMockHost } = await import("./mock");
  return createMockHost();
}
