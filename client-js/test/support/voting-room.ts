import assert from "node:assert/strict";
import WebSocket from "ws";
import type { Page } from "playwright-core";
import { SwitchboardClient } from "../../src/client.js";
import type { TestNode } from "./node.js";

/** What a voting page has seen (window.__voting). */
export interface PageView {
  tallies: { offset: number; t: number; yes: number; no: number }[];
  states: { state: string; transport?: string; at: number }[];
  transport: string;
}

export async function view(page: Page): Promise<PageView> {
  return page.evaluate(() => {
    const v = (window as unknown as { __voting?: { tallies: []; states: []; client: { transport: string } } }).__voting;
    return { tallies: v?.tallies ?? [], states: v?.states ?? [], transport: v?.client.transport ?? "" };
  });
}

/** Offsets 1..n with nothing missing, nothing twice. */
export function assertGapFree(offsets: number[], what: string): void {
  assert.deepEqual(
    offsets,
    Array.from({ length: offsets.length }, (_, i) => i + 1),
    `${what}: every tally once, in order, from offset 1`,
  );
}

/** Voters outside the browsers (Node SDK clients) that keep changing their votes. */
export class Bots {
  private running = false;
  private loop: Promise<void> | undefined;
  readonly clients: SwitchboardClient[];
  votes = 0;

  constructor(node: TestNode, readonly room: string, count = 3) {
    this.clients = Array.from(
      { length: count },
      (_, i) =>
        new SwitchboardClient({
          url: node.url,
          token: () => node.token(`bot-${i}-${room}`),
          WebSocket: WebSocket as never,
          transports: ["websocket"],
        }),
    );
  }

  /** Starts voting: each bot flips its vote every `everyMs`. */
  async start(everyMs = 250): Promise<void> {
    await Promise.all(this.clients.map((c) => c.connect()));
    this.running = true;
    this.loop = (async () => {
      let n = 0;
      while (this.running) {
        const bot = this.clients[n % this.clients.length];
        await bot.post(`/votes/${this.room}`, (n >> 1) % 2 === 0 ? "yes" : "no").catch(() => undefined);
        this.votes++;
        n++;
        await new Promise((r) => setTimeout(r, everyMs / this.clients.length));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    for (const c of this.clients) {
      c.close();
    }
  }
}
