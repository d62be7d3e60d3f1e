import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/**
 * Debian's Chromium at /usr/bin/chromium; installed with apt-get when missing and running as root,
 * otherwise a clear failure.
 */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) {
    return CHROMIUM;
  }
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${CHROMIUM} is missing and this is not root: install Debian's chromium (apt-get install -y chromium) to run the browser tests`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env, timeout: 300_000 });
  execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env, timeout: 600_000 });
  if (!existsSync(CHROMIUM)) {
    throw new Error(`apt-get install chromium did not provide ${CHROMIUM}`);
  }
  return CHROMIUM;
}

/** Headless Chromium driven by playwright-core (Playwright gives it a fresh --user-data-dir). */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: ensureChromium(),
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 60_000,
  });
}
