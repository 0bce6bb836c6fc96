// An in-memory host for component tests and for opening the UI in a plain
// browser (`npm run dev`). It behaves like the core: same defaults (zh-CN,
// offline), same validation, same error shape.

import { HostError, type AppInfo, type ConnectionStatus, type Host, type Locale } from "./index";

export interface MockHostOptions {
  info?: Partial<AppInfo>;
  connection?: ConnectionStatus;
  /** Makes `setLocale` fail as if the disk refused the write. */
  failSaves?: boolean;
}

const LOCALES: readonly Locale[] = ["zh-CN", "en"];

export function createMockHost(options: MockHostOptions = {}): Host & { calls: string[] } {
  let info: AppInfo = {
    name: "Homedesk",
    version: "0.0.0-mock",
    dataDir: "/mock/homedesk",
    locale: "zh-CN",
    ...options.info,
  };
  const connection: ConnectionStatus = options.connection ?? {
    state: "offline",
    pendingActions: 0,
    lastSyncAt: null,
    signInNeeded: false,
    problem: null,
    bytesReceived: 0,
  };
  const calls: string[] = [];

  return {
    calls,
    async appInfo() {
      calls.push("appInfo");
      return { ...info };
    },
    async setLocale(locale) {
      calls.push(`setLocale:${locale}`);
      if (!LOCALES.includes(locale)) {
        throw new HostError("invalid_input", `unknown interface language "${locale}"`);
      }
      if (options.failSaves) {
        throw new HostError("storage", "cannot save settings to /mock/homedesk/settings.json");
      }
      info = { ...info, locale };
      return { ...info };
    },
    async connectionStatus() {
      calls.push("connectionStatus");
      return { ...connection };
    },
  };
}
