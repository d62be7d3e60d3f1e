import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import WebSocket from "ws";
import { SwitchboardClient, type ClientOptions, type StateEvent } from "../../src/client.js";
import { SwitchboardError } from "../../src/errors.js";
import { FaultProxy } from "../support/proxy.js";
import { TestNode } from "../support/node.js";
import { waitFor } from "../support/wait.js";

// End-to-end over WebSocket against a real node (its own JVM, JWT auth with a random secret, the
// node's embedded Redis journal) and the example worker.

let node: TestNode;
const clients: SwitchboardClient[] = [];
const proxies: FaultProxy[] = [];

before(async () => {
  node = await new TestNode().start({
    jvmOptions: ["-Dswitchboard.auth.clock-skew=1s", "-Dswitchboard.auth.token-expiry-warning=4s"],
  });
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

function client(user: string, options: Partial<ClientOptions> = {}): SwitchboardClient {
  const c = new SwitchboardClient({
    url: node.url,
    token: () => node.token(user),
    WebSocket: WebSocket as never,
    transports: ["websocket"],
    ...options,
  });
  clients.push(c);
  return c;
}

async function proxy(): Promise<{ proxy: FaultProxy; url: string }> {
  const p = new FaultProxy(node.httpPort);
  proxies.push(p);
  return { proxy: p, url: await p.start() };
}

function track(c: SwitchboardClient): StateEvent[] {
  const states: StateEvent[] = [];
  c.onState((s) => states.push(s));
  return states;
}

test("connect, join, publish, receive; requests to the worker", async () => {
  const alice = client("alice");
  const bob = client("bob");
  const seen: string[] = [];
  alice.on("e2e:lobby", (m) => seen.push(`${m.offset}:${m.text()}`));
  await Promise.all([alice.connect(), bob.connect()]);
  assert.equal(alice.userId, "alice");
  assert.equal(alice.transport, "websocket");
  await alice.join("e2e:lobby");
  await bob.join("e2e:lobby");
  const first = await bob.publish("e2e:lobby", "hello");
  const second = await bob.publish("e2e:lobby", new TextEncoder().encode("bytes"));
  assert.equal(second.offset, first.offset + 1);
  await waitFor("both messages", () => seen.length === 2);
  assert.deepEqual(seen, [`${first.offset}:hello`, `${second.offset}:bytes`]);

  const echo = await alice.get("/echo/hi");
  assert.equal(echo.status, 200);
  assert.equal(echo.text(), "hi");
  const vote = await alice.post("/votes/e2e", "yes");
  assert.deepEqual(vote.json(), { room: "e2e", votes: { yes: 1 } });
  await assert.rejects(alice.get("/nowhere"), (e: SwitchboardError) => e.code === "NO_ROUTE");
});

test("history on join: since 0 replays the group's messages before live ones", async () => {
  const writer = client("writer");
  await writer.connect();
  await writer.join("e2e:history");
  for (let i = 1; i <= 5; i++) {
    await writer.publish("e2e:history", `h${i}`);
  }
  const reader = client("reader");
  const seen: string[] = [];
  reader.on("e2e:history", (m) => seen.push(m.text()));
  await reader.connect();
  const joined = await reader.join("e2e:history", { since: 0 });
  assert.equal(joined.head, 5);
  await writer.publish("e2e:history", "live");
  await waitFor("history then live", () => seen.length === 6);
  assert.deepEqual(seen, ["h1", "h2", "h3", "h4", "h5", "live"]);
});

test("a cut connection is resumed with no gap and no duplicate while publishing continues", async () => {
  const { proxy: p, url } = await proxy();
  const reader = client("cut-reader", { url, backoff: { initialMs: 100, maxMs: 500 } });
  const states = track(reader);
  const seen: number[] = [];
  reader.on("e2e:cut", (m) => seen.push(m.offset));
  await reader.connect();
  await reader.join("e2e:cut");
  const writer = client("cut-writer");
  await writer.connect();
  await writer.join("e2e:cut");
  let last = 0;
  for (let i = 0; i < 200; i++) {
    last = (await writer.publish("e2e:cut", `m${i}`)).offset;
    if (i === 60) {
      p.refuseAll = true;
      assert.ok(p.cut() >= 1, "the reader's connection was cut");
    }
    if (i === 120) {
      p.refuseAll = false;
    }
  }
  await waitFor("every message", () => seen.length >= 200 && seen.at(-1) === last, 30_000);
  assert.equal(seen.length, 200, "no duplicate");
  assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => last - 199 + i), "in order, no gap");
  assert.ok(states.some((s) => s.state === "lost"));
  assert.equal(states.at(-1)?.state, "resumed");
});

test("a request with no answer in time settles with TIMEOUT; one cut in flight with DISCONNECTED", async () => {
  const alice = client("timeout");
  await alice.connect();
  const started = Date.now();
  await assert.rejects(alice.get("/delay/5000", { timeoutMs: 500 }), (e: SwitchboardError) => e.code === "TIMEOUT");
  const took = Date.now() - started;
  assert.ok(took >= 450 && took < 4000, `settled after ${took} ms`);
  const ok = await alice.get("/delay/10", { timeoutMs: 5000 });
  assert.equal(ok.text(), "waited 10");

  const { proxy: p, url } = await proxy();
  const bob = client("timeout-bob", { url });
  await bob.connect();
  const inFlight = bob.get("/delay/3000", { timeoutMs: 10_000 });
  await new Promise((r) => setTimeout(r, 200));
  p.cut();
  await assert.rejects(inFlight, (e: SwitchboardError) => e.code === "DISCONNECTED");
});

test("reconnect attempts back off exponentially with jitter, then resume", async () => {
  const { proxy: p, url } = await proxy();
  const c = client("backoff", { url, backoff: { initialMs: 200, maxMs: 1600, jitter: 0.5 } });
  const connecting: number[] = [];
  const retries: number[] = [];
  c.onState((s) => {
    if (s.state === "connecting") {
      connecting.push(Date.now());
    } else if (s.state === "lost") {
      retries.push(s.retryInMs);
    }
  });
  await c.connect();
  p.refuseAll = true;
  p.cut();
  await waitFor("five refused attempts", () => connecting.length >= 6, 20_000);
  const gaps = connecting.slice(2, 6).map((t, i) => t - connecting[1 + i]);
  // attempt n waits between half and all of min(1600, 200·2^n) ms
  const ceilings = [200, 400, 800, 1600, 1600];
  retries.slice(0, 5).forEach((r, i) => {
    assert.ok(r >= ceilings[i] / 2 - 1 && r <= ceilings[i] + 1, `retry ${i}: ${r} ms`);
  });
  gaps.forEach((gap, i) => {
    assert.ok(gap >= ceilings[i + 1] / 2 - 20, `gap ${i + 1}: ${gap} ms (ceiling ${ceilings[i + 1]})`);
  });
  assert.ok(gaps[3] > gaps[0], `gaps grow: ${gaps.join(", ")}`);
  p.refuseAll = false;
  await waitFor("resumed", () => c.state === "connected", 10_000);
});

test("an expiring token is refreshed through the token function; the connection stays", async () => {
  let fetched = 0;
  const c = client("refresher", {
    token: () => {
      fetched++;
      return node.token("refresher", fetched === 1 ? 5 : 3600);
    },
  });
  const states = track(c);
  await c.connect();
  // expiry at 5 s + 1 s skew; warning 4 s before: TokenExpiring at ~2 s, closed at ~6 s without refresh
  await waitFor("the refresh", () => fetched === 2, 10_000);
  await new Promise((r) => setTimeout(r, 5000));
  assert.equal(c.state, "connected");
  assert.deepEqual(
    states.map((s) => s.state),
    ["connecting", "connected"],
    "never lost",
  );
});

test("a backend's Ask is answered by the client's handler; a backend's Disconnect closes for good", async () => {
  const c = client("asked");
  c.onRequest("GET", "/profile/:field", (req) => ({ status: 200, body: `${req.params.field} of ${c.userId}` }));
  const states = track(c);
  await c.connect();
  const answer = (await node.api("Ask", { sessionId: c.sessionId, method: "GET", path: "/profile/name", timeoutMs: 5000 })) as {
    status: number;
    body: string;
  };
  assert.equal(answer.status, 200);
  assert.equal(Buffer.from(answer.body, "base64").toString(), "name of asked");
  await node.api("Disconnect", { sessionId: c.sessionId, closeCode: 4001, reason: "kicked" });
  await waitFor("closed", () => c.state === "closed");
  assert.deepEqual(states.at(-1), { state: "closed", code: 4001, reason: "kicked" });
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(states.filter((s) => s.state === "connecting").length, 1, "not resumed");
});
