import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { SwitchboardClient, type StateEvent } from "../../src/client.js";
import type { ServerFrame } from "../../src/frames.js";
import { LongPollTransport } from "../../src/longpoll.js";
import type { TransportEnd } from "../../src/transport.js";
import { b64 } from "../support/fakes.js";
import { FakeLongPollServer } from "../support/fake-longpoll-server.js";
import { waitFor } from "../support/wait.js";
import WebSocket from "ws";

let server: FakeLongPollServer;
let url: string;

before(async () => {
  server = new FakeLongPollServer();
  url = await server.start();
});

after(async () => {
  await server.stop();
});

function transport(cursors = () => [] as { stream: string; offset: string }[]) {
  const frames: ServerFrame[] = [];
  const ends: TransportEnd[] = [];
  const t = new LongPollTransport(
    { baseUrl: `${url}/lp`, fetch: globalThis.fetch, cursors, waitMs: 1000 },
    { frame: (f) => frames.push(f), end: (e) => ends.push(e) },
  );
  return { t, frames, ends };
}

test("open, then polls carry the session and cursors; sends are answered; one poll at a time", async () => {
  // the cursors a client would have: the highest offset delivered so far
  const frames: ServerFrame[] = [];
  const highest = () => Math.max(0, ...frames.filter((f) => f.delivery).map((f) => Number(f.delivery!.offset)));
  const ends: TransportEnd[] = [];
  const t = new LongPollTransport(
    {
      baseUrl: `${url}/lp`,
      fetch: globalThis.fetch,
      cursors: () => (highest() ? [{ stream: "lp-a", offset: String(highest()) }] : []),
      waitMs: 1000,
    },
    { frame: (f) => frames.push(f), end: (e) => ends.push(e) },
  );
  try {
    t.open({ id: "1", connect: {} }, undefined);
    const connected = await waitFor("Connected", () => frames.find((f) => f.connected));
    assert.equal(connected.id, "1");
    assert.ok(t.send({ id: "2", join: { group: "lp-a", sinceOffset: "0" } }));
    assert.ok(t.send({ id: "3", publish: { group: "lp-a", payload: b64("one") } }));
    await waitFor("Published", () => frames.find((f) => f.published));
    const delivered = await waitFor("the delivery", () => frames.find((f) => f.delivery));
    assert.equal(delivered.delivery?.offset, "1");
    server.publish("lp-a", "two");
    await waitFor("the second delivery", () => frames.find((f) => f.delivery?.offset === "2"));
    await waitFor("a poll after it", () => server.calls.filter((c) => c.call === "poll").some((c) => JSON.stringify((c.body as { cursors?: unknown }).cursors) === JSON.stringify([{ stream: "lp-a", offset: "2" }])));
    const polls = server.calls.filter((c) => c.call === "poll").map((c) => c.body as Record<string, unknown>);
    assert.equal(polls[0].sessionId, connected.connected?.sessionId);
    assert.equal(polls[0].resumeToken, connected.connected?.resumeToken);
    assert.equal(polls[0].waitMs, 1000);
    assert.deepEqual(
      frames.filter((f) => f.delivery).map((f) => f.delivery?.offset),
      ["1", "2"],
      "a poll's cursors are its acks: nothing delivered twice",
    );
    assert.ok(t.send({ ack: { cursors: [{ stream: "lp-a", offset: "2" }] } }));
    assert.equal(server.sentFrames("ack").length, 0, "acks ride on polls");
    assert.equal(server.maxConcurrentPolls, 1);
    const sendFrames = server.sentFrames("join").concat(server.sentFrames("publish"));
    assert.deepEqual(sendFrames.map((f) => f.id), ["2", "3"]);
  } finally {
    t.close();
  }
  assert.deepEqual(ends, [], "a closed transport reports nothing");
});

test("a slow request does not hold up frames sent after it", async () => {
  server.routes.set("GET /slow", () => new Promise((r) => setTimeout(() => r({ status: 200, body: b64("late") }), 600)));
  const { t, frames } = transport();
  try {
    t.open({ id: "1", connect: {} }, undefined);
    await waitFor("Connected", () => frames.find((f) => f.connected));
    t.send({ id: "2", request: { method: "GET", path: "/slow", timeoutMs: 2000 } });
    t.send({ id: "3", publish: { group: "lp-b", payload: b64("x") } });
    await waitFor("the reply", () => frames.find((f) => f.reply));
    const order = frames.filter((f) => f.reply || f.published).map((f) => f.id);
    assert.deepEqual(order, ["3", "2"]);
  } finally {
    t.close();
  }
});

test("a Close in a poll's answer ends the transport; so does a refused open and a cut", async () => {
  const a = transport();
  a.t.open({ id: "1", connect: {} }, undefined);
  const connected = await waitFor("Connected", () => a.frames.find((f) => f.connected));
  server.push(connected.connected!.sessionId!, { close: { code: 3001, reason: "slow" } });
  await waitFor("the end", () => a.ends.length === 1);
  assert.equal(a.frames.at(-1)?.close?.code, 3001);
  assert.equal(a.ends[0].opened, true);

  server.requiredToken = "secret";
  const b = transport();
  b.t.open({ id: "1", connect: {} }, "wrong");
  await waitFor("the refusal", () => b.ends.length === 1);
  assert.equal(b.ends[0].status, 401);
  assert.equal(b.ends[0].opened, false);
  const c = transport();
  c.t.open({ id: "1", connect: {} }, "secret");
  await waitFor("Connected with the right token", () => c.frames.find((f) => f.connected));
  server.requiredToken = "";

  server.cutPolls = 1; // the next poll's connection is destroyed: only c polls now
  await waitFor("the cut", () => c.ends.length === 1, 10_000).finally(() => c.t.close());
  assert.match(c.ends[0].reason, /poll failed/);
});

test("a session the server no longer knows is answered with Error and Close 3505", async () => {
  const { t, frames, ends } = transport();
  t.open({ id: "1", resume: { sessionId: "nope", resumeToken: "x" } }, undefined);
  await waitFor("the end", () => ends.length === 1);
  assert.deepEqual(
    frames.map((f) => Object.keys(f).filter((k) => k !== "id")[0]),
    ["error", "close"],
  );
});

test("the client over long-poll: history, live messages, a cut resumed with no gap and no duplicate, asks answered", async () => {
  const client = new SwitchboardClient({
    url,
    transports: ["longpoll"],
    longPollWaitMs: 1000,
    backoff: { initialMs: 50, maxMs: 200 },
  });
  const states: StateEvent[] = [];
  client.onState((s) => states.push(s));
  const seen: number[] = [];
  client.on("lp-room", (m) => seen.push(m.offset));
  client.onRequest("GET", "/whoami", () => ({ status: 200, body: "me" }));
  server.publish("lp-room", "before-1");
  server.publish("lp-room", "before-2");
  await client.connect();
  await client.join("lp-room", { since: 0 });
  const published = await client.publish("lp-room", "mine");
  assert.equal(published.offset, 3);
  await waitFor("history and own message", () => seen.length === 3);
  let publishing = true;
  const publisher = (async () => {
    while (publishing) {
      server.publish("lp-room", "live");
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  server.cutPolls = 2;
  await waitFor("a resume", () => states.some((s) => s.state === "resumed"));
  const reply = await server.ask(client.sessionId!, "GET", "/whoami");
  assert.equal(Buffer.from(reply.reply!.body!, "base64").toString(), "me");
  publishing = false;
  await publisher;
  const head = server.logs.get("lp-room")!.length;
  await waitFor("every message", () => seen.length === head);
  assert.deepEqual(
    seen,
    Array.from({ length: head }, (_, i) => i + 1),
  );
  assert.ok(states.some((s) => s.state === "lost"));
  const sessionId = client.sessionId!;
  assert.ok(server.sessions.has(sessionId));
  client.close();
  await waitFor("the session ended on the server", () => !server.sessions.has(sessionId));
});

test("a client whose WebSocket is refused falls back to long-poll and works", async () => {
  const client = new SwitchboardClient({
    url,
    WebSocket: WebSocket as never,
    longPollWaitMs: 1000,
    backoff: { initialMs: 20, maxMs: 100 },
  });
  const states: StateEvent[] = [];
  client.onState((s) => states.push(s));
  await client.connect();
  assert.equal(client.transport, "longpoll");
  const attempts = states.filter((s) => s.state === "connecting").map((s) => (s as { transport: string }).transport);
  assert.deepEqual(attempts, ["websocket", "websocket", "longpoll"]);
  const reply = await client.get("/nowhere").catch((e) => e.code);
  assert.equal(reply, "NO_ROUTE");
  client.close();
});
