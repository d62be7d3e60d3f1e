import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import WebSocket from "ws";
import { SwitchboardClient, type ClientOptions, type StateEvent } from "../../src/client.js";
import { SwitchboardError } from "../../src/errors.js";
import { FaultProxy } from "../support/proxy.js";
import { requireLongPoll, TestNode } from "../support/node.js";
import { waitFor } from "../support/wait.js";

// End-to-end over long-poll against a real node: needs the node's /lp endpoints (long-poll
// contract v1). Without them every test fails with a message saying so.

let node: TestNode;
const clients: SwitchboardClient[] = [];
const proxies: FaultProxy[] = [];

before(async () => {
  node = await new TestNode().start();
  await requireLongPoll(node);
  await node.startWorker();
}, { timeout: 240_000 });

after(async () => {
  for (const c of clients) {
    c.close();
  }
  for (const p of proxies) {
    await p.stop();
  }
  await node?.stop();
});

async function behindProxy(user: string, options: Partial<ClientOptions> = {}) {
  const proxy = new FaultProxy(node.httpPort);
  proxies.push(proxy);
  proxy.refuseWebSockets = true;
  const url = await proxy.start();
  const client = new SwitchboardClient({
    url,
    token: () => node.token(user),
    WebSocket: WebSocket as never,
    longPollWaitMs: 5000,
    backoff: { initialMs: 100, maxMs: 1000 },
    ...options,
  });
  clients.push(client);
  const states: StateEvent[] = [];
  client.onState((s) => states.push(s));
  return { proxy, client, states };
}

async function publisher(group: string): Promise<SwitchboardClient> {
  const c = new SwitchboardClient({ url: node.url, token: () => node.token(`pub-${group}`), WebSocket: WebSocket as never, transports: ["websocket"] });
  clients.push(c);
  await c.connect();
  await c.join(group);
  return c;
}

test("WebSocket refused: falls back to long-poll; join, publish, receive, requests", async () => {
  const { client, states } = await behindProxy("lp-alice");
  const seen: string[] = [];
  client.on("lp:lobby", (m) => seen.push(m.text()));
  await client.connect();
  assert.equal(client.transport, "longpoll");
  assert.deepEqual(
    states.filter((s) => s.state === "connecting").map((s) => (s as { transport: string }).transport),
    ["websocket", "websocket", "longpoll"],
  );
  await client.join("lp:lobby");
  const other = await publisher("lp:lobby");
  await other.publish("lp:lobby", "from a websocket client");
  await client.publish("lp:lobby", "from long-poll");
  await waitFor("both messages", () => seen.length === 2);
  assert.deepEqual(seen, ["from a websocket client", "from long-poll"]);
  const echo = await client.get("/echo/polled");
  assert.equal(echo.text(), "polled");
  await assert.rejects(client.get("/delay/5000", { timeoutMs: 500 }), (e: SwitchboardError) => e.code === "TIMEOUT");
  const answer = (await node.api("Ask", { sessionId: client.sessionId, method: "GET", path: "/ping", timeoutMs: 5000 })) as { status: number };
  assert.equal(answer.status, 404, "asks reach the long-polling client (no handler: 404)");
});

test("long-poll connections cut while publishing continues: resumed with no gap and no duplicate", async () => {
  const { proxy, client, states } = await behindProxy("lp-cut");
  const seen: number[] = [];
  client.on("lp:cut", (m) => seen.push(m.offset));
  await client.connect();
  await client.join("lp:cut");
  const other = await publisher("lp:cut");
  let last = 0;
  for (let i = 0; i < 150; i++) {
    last = (await other.publish("lp:cut", `m${i}`)).offset;
    if (i === 40 || i === 90) {
      proxy.cut();
    }
  }
  await waitFor("every message", () => seen.at(-1) === last, 30_000);
  assert.deepEqual(seen, Array.from({ length: 150 }, (_, i) => last - 149 + i));
  assert.ok(states.some((s) => s.state === "resumed"), "resumed at least once");
  assert.equal(client.transport, "longpoll");
});

test("when WebSockets work again the client moves back to WebSocket, missing nothing", async () => {
  const { proxy, client, states } = await behindProxy("lp-back", { webSocketRetryMs: 1000 });
  const seen: number[] = [];
  client.on("lp:back", (m) => seen.push(m.offset));
  await client.connect();
  await client.join("lp:back");
  assert.equal(client.transport, "longpoll");
  const other = await publisher("lp:back");
  proxy.refuseWebSockets = false;
  let last = 0;
  for (let i = 0; i < 60; i++) {
    last = (await other.publish("lp:back", `m${i}`)).offset;
    await new Promise((r) => setTimeout(r, 40));
  }
  await waitFor("back on WebSocket", () => client.transport === "websocket" && client.state === "connected", 15_000);
  await waitFor("every message", () => seen.at(-1) === last, 15_000);
  assert.deepEqual(seen, Array.from({ length: 60 }, (_, i) => last - 59 + i));
  assert.equal(states.at(-1)?.state, "resumed");
});
