import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../support/browser.js";
import { requireLongPoll, TestNode } from "../support/node.js";
import { assertGapFree, Bots, view } from "../support/voting-room.js";
import { startVotingServer, type VotingServer } from "../support/voting.js";
import { waitFor } from "../support/wait.js";

// The voting room in headless Chromium, forced onto long-poll: needs the node's /lp endpoints.

let node: TestNode;
let web: VotingServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
const room = `lp-browser-${Date.now().toString(36)}`;

before(async () => {
  node = await new TestNode().start();
  await requireLongPoll(node);
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

async function open(): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${web.url}/?room=${room}`);
  await waitFor("connected", async () => (await view(page)).states.some((s) => s.state === "connected"), 30_000);
  return page;
}

test("a page whose WebSocket is cut and then refused moves to long-poll and keeps its tally with no gap", async () => {
  const alice = await open();
  const bob = await open();
  const bots = new Bots(node, room);
  await bots.start();
  await waitFor("tallies flowing", async () => (await view(bob)).tallies.length >= 2, 15_000);
  web.faults.refuseWebSockets = true;
  web.cut();
  await waitFor("both pages on long-poll", async () => (await view(alice)).transport === "longpoll" && (await view(bob)).transport === "longpoll", 30_000);
  await bob.click("#vote-yes");
  await new Promise((r) => setTimeout(r, 3000));
  await bots.stop();
  await waitFor(
    "both pages have the same tallies",
    async () => {
      const [a, b] = [await view(alice), await view(bob)];
      return a.tallies.length > 0 && JSON.stringify(a.tallies) === JSON.stringify(b.tallies);
    },
    20_000,
  );
  const b = await view(bob);
  assertGapFree(b.tallies.map((t) => t.offset), "bob");
  assert.equal(b.states.at(-1)?.state, "resumed");
  assert.match((await bob.textContent("#mine")) ?? "", /You voted yes/);
});
