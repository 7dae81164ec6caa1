// The browser-test harness: the real `automations` binary on a temporary database, Debian's
// chromium driven by playwright-core, one fresh page per test, a screenshot per test, and
// a failure for any console error the test did not expect.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
export const WEB = join(HERE, "..");
export const ROOT = join(WEB, "..");
export const RESULTS = join(WEB, "test-results");
export const TOKEN = "e2e-admin-token";

// DEVELOPERS.md: the flags that keep Debian's chromium quiet and sandbox-free in CI.
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function binaryPath() {
  if (process.env.AUTOMATIONS_BIN) return process.env.AUTOMATIONS_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(ROOT, "target");
  return join(target, "debug", "automations");
}

/** Starts `automations serve` on a free port and a temporary database. */
export async function startServer() {
  const bin = binaryPath();
  if (!existsSync(bin)) throw new Error(`no binary at ${bin}: run cargo build -p automations-server (or set AUTOMATIONS_BIN)`);
  const dir = mkdtempSync(join(tmpdir(), "automations-e2e-"));
  const child = spawn(bin, ["serve", "--addr", "127.0.0.1:0", "--database-url", `sqlite://${join(dir, "e2e.db")}`], {
    env: { ...process.env, AUTOMATIONS_ADMIN_TOKEN: TOKEN, RUST_LOG: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${log}`)), 20000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${out}\n${log}`)));
  });
  return {
    url,
    log: () => log,
    stop() {
      child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    throw new Error(`no chromium at ${executablePath}: apt-get install -y chromium (or set CHROMIUM)`);
  }
  return chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true });
}

/** A small API client for arranging what a test needs (never what the test is about). */
export function api(base) {
  return async (method, path, body) => {
    const response = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    return { status: response.status, data };
  };
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually(fn, what, timeout = 15000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

export function check(cond, message) {
  if (!cond) throw new Error(message);
}

/**
 * Runs `tests` in order, each with a fresh page, saving `test-results/<name>.png`.
 * A test may allow console errors by returning from `allowConsole` patterns.
 */
export async function run(tests) {
  mkdirSync(RESULTS, { recursive: true });
  const only = process.env.ONLY;
  // E2E_URL: a server that is already running (e.g. `vite` proxying to `automations serve`).
  const server = process.env.E2E_URL ? { url: process.env.E2E_URL, stop() {} } : await startServer();
  const browser = await launchBrowser();
  const ctx = { url: server.url, api: api(server.url) };
  let failed = 0;
  try {
    for (const test of tests) {
      if (only && !test.name.includes(only)) continue;
      const context = await browser.newContext({ viewport: test.viewport ?? { width: 1280, height: 800 } });
      const page = await context.newPage();
      page.setDefaultTimeout(10000);
      const consoleErrors = [];
      page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
      page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
      const started = Date.now();
      const file = join(RESULTS, `${test.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.png`);
      try {
        await test.fn({ ...ctx, page, context });
        const allowed = test.allowConsole ?? [];
        const unexpected = consoleErrors.filter((e) => !allowed.some((re) => re.test(e)));
        check(unexpected.length === 0, `console errors: ${unexpected.join(" | ")}`);
        await page.screenshot({ path: file, fullPage: true });
        console.log(`ok   ${test.name} (${Date.now() - started} ms)`);
      } catch (e) {
        failed += 1;
        await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
        console.log(`FAIL ${test.name}: ${e.stack ?? e}`);
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
    server.stop();
  }
  if (failed) {
    console.log(`\n${failed} browser test(s) failed; screenshots in ${RESULTS}`);
    process.exit(1);
  }
  console.log(`\nall browser tests passed; screenshots in ${RESULTS}`);
}
