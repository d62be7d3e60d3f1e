import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../support/browser.js";
import { CLIENT_JS_DIR, REPO_DIR, TestNode } from "../support/node.js";
import { assertGapFree, Bots, view } from "../support/voting-room.js";
import { startVotingServer, type VotingServer } from "../support/voting.js";
import { waitFor } from "../support/wait.js";

// The voting room (examples/voting) in headless Chromium: two pages, a real node, the example
// worker tallying votes once a second.

let node: TestNode;
let web: VotingServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
const room = `browser-${Date.now().toString(36)}`;
let alice: Page;
let bob: Page;
let bobContext: BrowserContext;

before(async () => {
  node = await new TestNode().start();
  await node.startWorker();
  web = await startVotingServer(node.url, node.secret);
  browser = await launchChromium();
}, { timeout: 300_000 });

after(async () => {
  for (const c of contexts) {
    await c.close().catch(() => undefined);
  }
  await browser?.close();
  await web?.close();
  await node?.stop();
});

async function open(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 980, height: 720 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${web.url}/?room=${room}`);
  await waitFor("the page connected", async () => (await view(page)).states.some((s) => s.state === "connected"), 30_000);
  return { context, page };
}

test("a vote in one page shows up in the other page's tally", async () => {
  alice = (await open()).page;
  const b = await open();
  bob = b.page;
  bobContext = b.context;
  await alice.click("#vote-yes");
  await waitFor("bob sees alice's yes", async () => (await bob.textContent("#yes")) === "1", 15_000);
  await bob.click("#vote-no");
  await waitFor("alice sees bob's no", async () => (await alice.textContent("#no")) === "1", 15_000);
  assert.match((await alice.textContent("#mine")) ?? "", /You voted yes/);
});

test("a page offline for a few seconds while votes continue catches up with no gap", async () => {
  const bots = new Bots(node, room);
  await bots.start();
  await waitFor("tallies flowing", async () => (await view(bob)).tallies.length >= 3, 15_000);
  await bobContext.setOffline(true);
  const offlineAt = Date.now();
  const before = (await view(bob)).tallies.length;
  await new Promise((r) => setTimeout(r, 4000));
  const during = (await view(bob)).tallies.length;
  await bobContext.setOffline(false);
  await new Promise((r) => setTimeout(r, 1500));
  await bots.stop();
  assert.ok(bots.votes > 10, `the bots voted (${bots.votes})`);
  const published = (await view(alice)).tallies;
  await waitFor(
    "bob caught up with alice",
    async () => {
      const [a, b] = [await view(alice), await view(bob)];
      return b.tallies.length > 0 && b.tallies.length === a.tallies.length && b.tallies.at(-1)!.offset === a.tallies.at(-1)!.offset;
    },
    30_000,
  ).catch(async (e) => {
    const [a, b] = [await view(alice), await view(bob)];
    const brief = (v: typeof a) => JSON.stringify({ offsets: v.tallies.map((t) => t.offset), states: v.states, transport: v.transport });
    throw new Error(`${(e as Error).message}\nalice: ${brief(a)}\nbob: ${brief(b)}`);
  });
  const [a, b] = [await view(alice), await view(bob)];
  assertGapFree(a.tallies.map((t) => t.offset), "alice");
  assertGapFree(b.tallies.map((t) => t.offset), "bob");
  assert.deepEqual(b.tallies, a.tallies, "both pages drew the same tallies");
  assert.ok(published.length - before >= 3, "tallies were published while bob was offline");
  assert.ok(during <= before + 1, `bob received nothing while offline (${before} → ${during})`);
  const lost = b.states.find((s) => s.state === "lost" && s.at >= offlineAt);
  assert.ok(lost, `bob's connection went away while offline: ${JSON.stringify(b.states.slice(-4))}`);
  assert.equal(b.states.at(-1)?.state, "resumed");
  // build/voting.png on every run; UPDATE_SCREENSHOT=1 refreshes the committed one of the example.
  await alice.screenshot({ path: join(CLIENT_JS_DIR, "build", "voting.png") });
  if (process.env.UPDATE_SCREENSHOT === "1") {
    await alice.screenshot({ path: join(REPO_DIR, "examples", "voting", "screenshot.png") });
  }
});
