// The host inside the Tauri shell: one typed wrapper per command of
// src-tauri/src/commands.rs. Command names live here and nowhere else.

import { invoke } from "@tauri-apps/api/core";
import { toHostError, type Host } from "./index";

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (reason) {
    throw toHostError(reason);
  }
}

export const tauriHost: Host = {
  appInfo: () => call("app_info"),
  setLocale: (locale) => call("set_locale", { locale }),
  connectionStatus: () => call("connection_status"),
};
