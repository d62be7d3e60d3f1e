import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff } from "../../src/backoff.js";

test("delays double from the initial delay up to the maximum", () => {
  const backoff = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
  const delays = Array.from({ length: 7 }, () => backoff.next());
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000]);
  assert.equal(backoff.attempts, 7);
});

test("jitter keeps each delay between (1 - jitter) and 1 times its ceiling", () => {
  const low = new Backoff({ initialMs: 100, maxMs: 10_000, jitter: 0.5, random: () => 0 });
  const high = new Backoff({ initialMs: 100, maxMs: 10_000, jitter: 0.5, random: () => 0.999999 });
  for (let n = 0; n < 6; n++) {
    const ceiling = 100 * 2 ** n;
    assert.equal(low.next(), ceiling / 2);
    const h = high.next();
    assert.ok(h < ceiling && h > ceiling * 0.99, `attempt ${n}: ${h}`);
  }
});

test("random delays of many clients are spread, not synchronised", () => {
  const delays = Array.from({ length: 200 }, () => new Backoff({ initialMs: 1000 }).next());
  const distinct = new Set(delays.map((d) => Math.round(d / 10)));
  assert.ok(distinct.size > 20, `only ${distinct.size} distinct delays`);
  assert.ok(delays.every((d) => d >= 500 && d <= 1000));
});

test("reset starts again from the initial delay", () => {
  const backoff = new Backoff({ initialMs: 50, maxMs: 5000, jitter: 0 });
  backoff.next();
  backoff.next();
  backoff.next();
  assert.deepEqual(backoff.nextRange(), [400, 400]);
  backoff.reset();
  assert.equal(backoff.attempts, 0);
  assert.equal(backoff.next(), 50);
});

test("nonsensical settings are refused", () => {
  assert.throws(() => new Backoff({ initialMs: 100, maxMs: 10 }), RangeError);
  assert.throws(() => new Backoff({ multiplier: 0.5 }), RangeError);
});
