import assert from "node:assert/strict";
import { test } from "node:test";
import { AckBatcher } from "../../src/acks.js";
import { Cursors } from "../../src/cursors.js";
import type { WireCursor } from "../../src/frames.js";
import { FakeClock } from "../support/fakes.js";

function setup(sendable = true) {
  const clock = new FakeClock();
  const cursors = new Cursors();
  const acks: WireCursor[][] = [];
  const state = { sendable };
  const batcher = new AckBatcher(
    cursors,
    (c) => {
      if (state.sendable) {
        acks.push(c);
      }
      return state.sendable;
    },
    clock,
  );
  const deliver = (stream: string, offset: number) => {
    cursors.accept(stream, offset);
    batcher.delivered();
  };
  return { clock, acks, batcher, deliver, state };
}

test("one ack per 100 messages, not one per message", async () => {
  const { acks, deliver } = setup();
  for (let i = 1; i <= 250; i++) {
    deliver("g", i);
  }
  assert.equal(acks.length, 2);
  assert.deepEqual(acks[0], [{ stream: "g", offset: "100" }]);
  assert.deepEqual(acks[1], [{ stream: "g", offset: "200" }]);
});

test("fewer messages are acked one second after the first of them", async () => {
  const { clock, acks, deliver } = setup();
  deliver("a", 1);
  await clock.advance(500);
  deliver("a", 2);
  deliver("b", 7);
  await clock.advance(499);
  assert.equal(acks.length, 0);
  await clock.advance(1);
  assert.deepEqual(acks, [
    [
      { stream: "a", offset: "2" },
      { stream: "b", offset: "7" },
    ],
  ]);
  await clock.advance(5000);
  assert.equal(acks.length, 1, "nothing new, no ack");
});

test("only cursors that moved since the last ack are sent", async () => {
  const { clock, acks, deliver } = setup();
  deliver("a", 1);
  deliver("b", 1);
  await clock.advance(1000);
  deliver("b", 2);
  await clock.advance(1000);
  assert.deepEqual(acks[1], [{ stream: "b", offset: "2" }]);
});

test("an ack that could not be sent is sent with the next one", async () => {
  const { clock, acks, deliver, state } = setup(false);
  deliver("a", 1);
  await clock.advance(1000);
  assert.equal(acks.length, 0);
  state.sendable = true;
  deliver("a", 2);
  await clock.advance(1000);
  assert.deepEqual(acks, [[{ stream: "a", offset: "2" }]]);
});

test("cancel stops the pending ack", async () => {
  const { clock, acks, deliver, batcher } = setup();
  deliver("a", 1);
  batcher.cancel();
  await clock.advance(5000);
  assert.equal(acks.length, 0);
  assert.equal(clock.waiting, 0);
});
