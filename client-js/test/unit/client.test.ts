import assert from "node:assert/strict";
import { test } from "node:test";
import { SwitchboardClient, type ClientOptions, type StateEvent } from "../../src/client.js";
import { SwitchboardError } from "../../src/errors.js";
import type { ClientFrame } from "../../src/frames.js";
import type { Message } from "../../src/messages.js";
import { b64, delivery, FakeClock, FakeTransports, flush } from "../support/fakes.js";

function setup(options: Partial<ClientOptions> = {}) {
  const clock = new FakeClock();
  const transports = new FakeTransports();
  const client = new SwitchboardClient({
    url: "http://127.0.0.1:1",
    clock,
    transportFactory: transports.factory,
    backoff: { initialMs: 100, maxMs: 1000, jitter: 0 },
    watchNetwork: false,
    ...options,
  });
  const states: StateEvent[] = [];
  client.onState((e) => states.push(e));
  const errors: SwitchboardError[] = [];
  client.onError((e) => errors.push(e));
  return { clock, transports, client, states, errors };
}

async function connected(options: Partial<ClientOptions> = {}) {
  const s = setup(options);
  const ready = s.client.connect();
  await flush();
  s.transports.last.accept();
  await ready;
  return s;
}

function received(client: SwitchboardClient, stream: string): string[] {
  const seen: string[] = [];
  client.on(stream, (m: Message) => seen.push(`${m.offset}:${m.text()}`));
  return seen;
}

test("connects with a token from a function and reports connecting, connected", async () => {
  let calls = 0;
  const { client, transports, states } = await connected({ token: async () => `t${++calls}` });
  assert.equal(transports.last.hello?.connect?.token, "t1");
  assert.equal(transports.last.token, "t1");
  assert.deepEqual(
    states.map((s) => s.state),
    ["connecting", "connected"],
  );
  assert.equal(client.state, "connected");
  assert.equal(client.sessionId, "s1");
  assert.equal(client.userId, "alice");
});

test("the application sees every message once, in order, across a resume", async () => {
  const { client, transports, clock, states } = await connected();
  const seen = received(client, "g");
  const first = transports.last;
  for (const o of [1, 2, 2, 3, 1]) {
    first.receive(delivery("g", o));
  }
  first.fail(true);
  await clock.advance(100);
  const second = transports.last;
  assert.notEqual(second, first);
  assert.deepEqual(second.hello?.resume, {
    sessionId: "s1",
    resumeToken: "rt1",
    cursors: [{ stream: "g", offset: "3" }],
    token: undefined,
  });
  second.accept({ resumed: true, groups: ["g"] });
  for (const o of [2, 3, 4, 5, 4]) {
    second.receive(delivery("g", o));
  }
  assert.deepEqual(seen, ["1:m1", "2:m2", "3:m3", "4:m4", "5:m5"]);
  assert.deepEqual(
    states.map((s) => s.state),
    ["connecting", "connected", "lost", "connecting", "resumed"],
  );
  assert.equal(second.sentOf("join").length, 0, "a resumed membership is not joined again");
});

test("a Recovery whose head is below the cursor lowers it: the stream's next messages are new", async () => {
  const { client, transports, clock } = await connected();
  const seen = received(client, "g");
  const first = transports.last;
  for (const o of [1, 2, 3]) {
    first.receive(delivery("g", o));
  }
  first.fail(true);
  await clock.advance(100);
  const second = transports.last;
  second.accept({ resumed: true, groups: ["g"] });
  // The node has the stream only up to 1 (it was reset): its head is below the cursor, 3.
  second.receive({ recovery: { stream: "g", recovered: true, firstOffset: "1", head: "1" } });
  second.receive(delivery("g", 2));
  second.receive(delivery("g", 3));
  second.receive(delivery("g", 3));
  assert.deepEqual(seen, ["1:m1", "2:m2", "3:m3", "2:m2", "3:m3"]);
});

test("acks are batched: every 100 messages, else one second after the first", async () => {
  const { transports, clock } = await connected();
  const t = transports.last;
  for (let o = 1; o <= 150; o++) {
    t.receive(delivery("g", o));
  }
  assert.deepEqual(
    t.sentOf("ack").map((f) => f.ack?.cursors),
    [[{ stream: "g", offset: "100" }]],
  );
  await clock.advance(999);
  assert.equal(t.sentOf("ack").length, 1);
  await clock.advance(1);
  assert.deepEqual(t.sentOf("ack")[1].ack?.cursors, [{ stream: "g", offset: "150" }]);
  t.receive(delivery("g", 150));
  await clock.advance(5000);
  assert.equal(t.sentOf("ack").length, 2, "a duplicate is not acked again");
});

test("a request that gets no answer is rejected with TIMEOUT, never hangs", async () => {
  const { client, transports, clock } = await connected();
  const reply = client.get("/slow", { timeoutMs: 500 });
  const outcome = reply.then(
    () => "resolved",
    (e: SwitchboardError) => e.code,
  );
  const sent = transports.last.sentOf("request")[0];
  assert.equal(sent.request?.timeoutMs, 500, "the node is told the timeout");
  await clock.advance(2499);
  assert.equal(await Promise.race([outcome, Promise.resolve("pending")]), "pending");
  await clock.advance(1);
  assert.equal(await outcome, "TIMEOUT");
});

test("requests settle with the reply, or with the node's error", async () => {
  const { client, transports } = await connected();
  const ok = client.post("/votes/1", "yes");
  const missing = client.get("/nowhere");
  const [post, get] = transports.last.sentOf("request");
  assert.equal(post.request?.body, b64("yes"));
  transports.last.receive({ id: post.id, reply: { status: 200, headers: { a: "b" }, body: b64('{"n":1}') } });
  transports.last.receive({ id: get.id, error: { code: "NO_ROUTE", message: "no backend" } });
  const reply = await ok;
  assert.equal(reply.status, 200);
  assert.equal(reply.ok, true);
  assert.deepEqual(reply.json(), { n: 1 });
  await assert.rejects(missing, (e: SwitchboardError) => e.code === "NO_ROUTE");
});

test("a lost connection rejects requests in flight, resends joins and publishes with their key", async () => {
  const { client, transports, clock } = await connected();
  const request = client.get("/x");
  const publish = client.publish("g", "hello");
  const first = transports.last;
  const key = first.sentOf("publish")[0].publish?.idempotencyKey;
  assert.ok(key);
  first.fail(true);
  await assert.rejects(request, (e: SwitchboardError) => e.code === "DISCONNECTED");
  await clock.advance(100);
  const second = transports.last;
  second.accept({ resumed: true });
  const resent = second.sentOf("publish")[0];
  assert.equal(resent.publish?.idempotencyKey, key);
  second.receive({ id: resent.id, published: { group: "g", offset: "7" } });
  assert.deepEqual(await publish, { group: "g", offset: 7 });
});

test("operations made before connecting are sent once connected", async () => {
  const { client, transports } = setup();
  const join = client.join("room", { since: 0 });
  const ready = client.connect();
  await flush();
  const t = transports.last;
  assert.equal(t.sent.length, 0);
  t.accept();
  await ready;
  const sent = t.sentOf("join")[0];
  assert.deepEqual(sent.join, { group: "room", sinceOffset: "0" });
  t.receive({ id: sent.id, joined: { group: "room", head: "12" } });
  assert.deepEqual(await join, { group: "room", head: 12 });
});

test("close rejects whatever waits with CLOSED and sends Close", async () => {
  const { client, transports, states } = await connected();
  const request = client.get("/x");
  const join = client.join("g");
  client.close();
  await assert.rejects(request, (e: SwitchboardError) => e.code === "CLOSED");
  await assert.rejects(join, (e: SwitchboardError) => e.code === "CLOSED");
  await assert.rejects(client.get("/y"), (e: SwitchboardError) => e.code === "CLOSED");
  assert.equal(transports.last.sentOf("close").length, 1);
  assert.equal(transports.last.closed, true);
  assert.deepEqual(states.at(-1), { state: "closed", code: 1000, reason: "closed by the application" });
});

test("delays between failed attempts grow: 100, 200, 400, 800, 1000 ms", async () => {
  const { client, transports, clock, states } = setup();
  void client.connect();
  const attemptsAt: number[] = [];
  for (let i = 0; i < 6; i++) {
    await flush();
    attemptsAt.push(clock.now());
    transports.last.fail(false, "refused");
    const delay = (states.at(-1) as { retryInMs: number }).retryInMs;
    await clock.advance(delay);
  }
  const gaps = attemptsAt.slice(1).map((t, i) => t - attemptsAt[i]);
  assert.deepEqual(gaps, [100, 200, 400, 800, 1000]);
  await flush();
  transports.last.accept();
  await flush();
  transports.last.fail(true);
  assert.equal((states.at(-1) as { retryInMs: number }).retryInMs, 100, "reset after a success");
});

test("two failed WebSocket attempts fall back to long-poll; a WebSocket that opens again is moved back to", async () => {
  class FakeWebSocket {
    static works = false;
    readyState = 0;
    protocol = "";
    onopen: ((e: unknown) => void) | null = null;
    onmessage = null;
    onclose: ((e: unknown) => void) | null = null;
    onerror: ((e: unknown) => void) | null = null;
    constructor() {
      queueMicrotask(() => (FakeWebSocket.works ? this.onopen?.({}) : this.onclose?.({ code: 1006 })));
    }
    send() {}
    close() {}
  }
  const { client, transports, clock } = setup({ WebSocket: FakeWebSocket, webSocketRetryMs: 30_000 });
  void client.connect();
  await flush();
  assert.equal(transports.last.kind, "websocket");
  transports.last.fail(false, "refused");
  await clock.advance(100);
  assert.equal(transports.last.kind, "websocket");
  transports.last.fail(false, "refused");
  await clock.advance(200);
  const lp = transports.last;
  assert.equal(lp.kind, "longpoll");
  assert.equal(client.transport, "longpoll");
  lp.accept();
  await flush();
  lp.receive(delivery("g", 1));
  await clock.advance(30_000); // probe: the WebSocket still fails
  await flush();
  assert.equal(transports.last, lp, "stays on long-poll while WebSocket fails");
  FakeWebSocket.works = true;
  await clock.advance(30_000);
  await flush();
  await clock.advance(0);
  const ws = transports.last;
  assert.equal(ws.kind, "websocket");
  assert.equal(lp.closed, true);
  assert.deepEqual(ws.hello?.resume?.cursors, [{ stream: "g", offset: "1" }]);
  ws.fail(false, "refused again");
  await clock.advance(100);
  assert.equal(transports.last.kind, "longpoll", "one failure after the probe falls back at once");
});

test("close codes: 3000-3499 resume, 3500-3999 and 4000-4999 stop", async () => {
  for (const [code, expected] of [
    [3001, "resume"],
    [3006, "resume"],
    [3505, "stop"],
    [3501, "stop"],
    [4001, "stop"],
    [1000, "stop"],
  ] as const) {
    const { client, transports, clock, states } = await connected();
    const count = transports.made.length;
    transports.last.receive({ close: { code, reason: "because" } });
    await clock.advance(1000);
    if (expected === "resume") {
      assert.equal(transports.made.length, count + 1, `${code} reconnects`);
      assert.ok(transports.last.hello?.resume, `${code} resumes`);
    } else {
      assert.equal(transports.made.length, count, `${code} does not reconnect`);
      assert.equal(client.state, "closed");
      assert.deepEqual(states.at(-1), { state: "closed", code, reason: "because" });
    }
  }
});

test("a session that is gone is replaced by a new one that joins its groups again after the cursor", async () => {
  const { client, transports, clock, states } = await connected();
  const seen = received(client, "g");
  const join = client.join("g");
  const t1 = transports.last;
  t1.receive({ id: t1.sentOf("join")[0].id, joined: { group: "g", head: "4" } });
  await join;
  t1.receive(delivery("g", 5));
  t1.fail(true);
  await clock.advance(100);
  const t2 = transports.last;
  t2.receive({ id: t2.hello!.id, error: { code: "SESSION_NOT_FOUND", message: "gone" } });
  await clock.advance(0);
  const t3 = transports.last;
  assert.ok(t3.hello?.connect, "a new session");
  t3.accept({ sessionId: "s2" });
  assert.deepEqual(t3.sentOf("join")[0].join, { group: "g", sinceOffset: "5" });
  t3.receive({ id: t3.sentOf("join")[0].id, joined: { group: "g", head: "9" } });
  for (const o of [5, 6, 7]) {
    t3.receive(delivery("g", o));
  }
  assert.deepEqual(seen, ["5:m5", "6:m6", "7:m7"]);
  assert.equal(states.at(-1)?.state, "connected");
  assert.equal(client.sessionId, "s2");
});

test("an unauthorized connect stops; TokenExpiring is answered with a fresh token", async () => {
  let n = 0;
  const { client, transports } = await connected({ token: () => `tok${++n}` });
  transports.last.receive({ tokenExpiring: { expiresAtMs: "1" } });
  await flush();
  const refresh = transports.last.sentOf("refresh")[0];
  assert.deepEqual(refresh.refresh, { token: "tok2" });
  transports.last.receive({ id: refresh.id, pong: {} });

  const s = setup({ token: "bad" });
  const ready = s.client.connect();
  await flush();
  s.transports.last.receive({ id: s.transports.last.hello!.id, error: { code: "UNAUTHORIZED", message: "bad token" } });
  await assert.rejects(ready, (e: SwitchboardError) => e.code === "CLOSED");
  assert.equal(s.client.state, "closed");
  assert.equal(client.state, "connected");
});

test("requests from the cluster are answered by handlers; pings by pongs", async () => {
  const { client, transports } = await connected();
  client.onRequest("GET", "/notes/:id", (req) => ({ status: 200, body: `note ${req.params.id}` }));
  client.onRequest("POST", "/fail", () => {
    throw new Error("boom");
  });
  const t = transports.last;
  t.receive({ request: { method: "GET", path: "/notes/42", requestId: "9" } });
  t.receive({ request: { method: "GET", path: "/unknown", requestId: "10" } });
  t.receive({ request: { method: "POST", path: "/fail", requestId: "11" } });
  t.receive({ ping: {} });
  await flush();
  const replies = t.sentOf("reply").map((f) => f.reply);
  replies.sort((a, b) => Number(a?.requestId) - Number(b?.requestId));
  assert.deepEqual(
    replies.map((r) => [r?.requestId, r?.status]),
    [
      ["9", 200],
      ["10", 404],
      ["11", 500],
    ],
  );
  assert.equal(replies[0]?.body, b64("note 42"));
  assert.deepEqual(t.sentOf("pong"), [{ pong: {} }]);
});

test("a silent connection is pinged, and dropped when the ping goes unanswered", async () => {
  const { transports, clock } = await connected();
  const t = transports.last;
  await clock.advance(20_000);
  const ping = t.sentOf("ping");
  assert.equal(ping.length, 1);
  await clock.advance(10_000);
  assert.equal(t.closed, true);
  await clock.advance(100);
  assert.notEqual(transports.last, t);
  assert.ok(transports.last.hello?.resume);
});

test("the session and cursors survive in storage and a new client resumes them", async () => {
  const store = new Map<string, string>();
  const storage = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  };
  const first = await connected({ storage });
  first.transports.last.receive(delivery("g", 3));
  await first.clock.advance(1000);
  const second = setup({ storage });
  second.client.connect().catch(() => {});
  await flush();
  assert.deepEqual(second.transports.last.hello?.resume, {
    sessionId: "s1",
    resumeToken: "rt1",
    cursors: [{ stream: "g", offset: "3" }],
    token: undefined,
  });
  second.client.close();
  assert.equal(store.size, 0, "a closed session is forgotten");
});

test("memberships a backend made are kept and rejoined", async () => {
  const { transports, clock } = await connected();
  transports.last.receive({ joined: { group: "news", head: "3" } });
  transports.last.fail(true);
  await clock.advance(100);
  transports.last.receive({ id: transports.last.hello!.id, error: { code: "SESSION_NOT_FOUND" } });
  await clock.advance(0);
  transports.last.accept({ sessionId: "s2" });
  const joins: ClientFrame[] = transports.last.sentOf("join");
  assert.deepEqual(joins[0].join, { group: "news", sinceOffset: "3" });
});
