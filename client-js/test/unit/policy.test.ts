import assert from "node:assert/strict";
import { test } from "node:test";
import { TransportPolicy } from "../../src/policy.js";

test("WebSocket first; long-poll after two WebSocket attempts failed in a row", () => {
  const policy = new TransportPolicy();
  assert.equal(policy.current(), "websocket");
  policy.failed("websocket");
  assert.equal(policy.current(), "websocket");
  policy.failed("websocket");
  assert.equal(policy.current(), "longpoll");
  assert.equal(policy.shouldProbe(), true);
});

test("a success in between resets the count", () => {
  const policy = new TransportPolicy();
  policy.failed("websocket");
  policy.connected("websocket");
  policy.failed("websocket");
  assert.equal(policy.current(), "websocket");
});

test("a WebSocket that opens again is used next; one failure of it falls back at once", () => {
  const policy = new TransportPolicy({ failuresBeforeSwitch: 3 });
  policy.failed("websocket");
  policy.failed("websocket");
  policy.failed("websocket");
  assert.equal(policy.current(), "longpoll");
  policy.websocketWorks();
  assert.equal(policy.current(), "websocket");
  assert.equal(policy.shouldProbe(), false);
  policy.failed("websocket");
  assert.equal(policy.current(), "longpoll");
});

test("when every transport fails they alternate", () => {
  const policy = new TransportPolicy();
  const seen: string[] = [];
  for (let i = 0; i < 8; i++) {
    seen.push(policy.current());
    policy.failed(policy.current());
  }
  assert.deepEqual(seen, ["websocket", "websocket", "longpoll", "longpoll", "websocket", "websocket", "longpoll", "longpoll"]);
});

test("a single allowed transport is never left, and never probed away from", () => {
  const policy = new TransportPolicy({ transports: ["longpoll"] });
  policy.failed("longpoll");
  policy.failed("longpoll");
  policy.failed("longpoll");
  assert.equal(policy.current(), "longpoll");
  assert.equal(policy.shouldProbe(), false);
  assert.throws(() => new TransportPolicy({ transports: [] }), RangeError);
});

test("a failure of a transport not in use does not count", () => {
  const policy = new TransportPolicy();
  policy.failed("longpoll");
  policy.failed("longpoll");
  assert.equal(policy.current(), "websocket");
});
