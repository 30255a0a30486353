// Debian's chromium for the browser tests and the README screenshots, driven by
// playwright-core (pinned to the release built for this chromium; never a browser
// download). Offline: background networking is off, and every profile is fresh.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function launchOptions() {
  const home = mkdtempSync(join(tmpdir(), "partnerlens-chromium-"));
  return {
    executablePath: CHROMIUM,
    headless: true,
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home },
    args: [
      "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-features=Translate,OptimizationHints,MediaRouter",
    ],
  };
}
