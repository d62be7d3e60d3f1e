import assert from "node:assert/strict";
import { test } from "node:test";
import { Cursors } from "../../src/cursors.js";

test("a delivery at or below the cursor is a duplicate", () => {
  const cursors = new Cursors();
  assert.equal(cursors.accept("g", 1), "new");
  assert.equal(cursors.accept("g", 2), "new");
  assert.equal(cursors.accept("g", 2), "duplicate");
  assert.equal(cursors.accept("g", 1), "duplicate");
  assert.equal(cursors.accept("g", 3), "new");
  assert.equal(cursors.get("g"), 3);
});

test("streams are independent", () => {
  const cursors = new Cursors([["a", 5]]);
  assert.equal(cursors.accept("b", 1), "new");
  assert.equal(cursors.accept("a", 5), "duplicate");
  assert.equal(cursors.accept("a", 6), "new");
  assert.deepEqual(cursors.toWire(), [
    { stream: "a", offset: "6" },
    { stream: "b", offset: "1" },
  ]);
});

test("initialize sets only a missing cursor; delete forgets", () => {
  const cursors = new Cursors();
  cursors.initialize("g", 10);
  cursors.initialize("g", 3);
  assert.equal(cursors.get("g"), 10);
  assert.equal(cursors.accept("g", 10), "duplicate");
  cursors.delete("g");
  assert.equal(cursors.get("g"), undefined);
});
