#!/usr/bin/env node
// The voting room's web server: serves the page and the SDK (client-js/dist), hands out tokens
// (HS256 JWTs signed with the node's secret, one voter per browser tab), and passes /ws and /lp/*
// through to a Switchboard node so that the page, its WebSocket and its long-polls share one
// origin (the node's same-host Origin check then holds without configuration).
//
//   SWITCHBOARD_AUTH_HMAC_SECRET=<the node's secret> node examples/voting/server.mjs \
//     [--port 8090] [--node http://127.0.0.1:8080]
//
// No dependencies beyond Node.js 20.
import { createHmac, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, request as httpRequest } from "node:http";
import { connect } from "node:net";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const PUBLIC = join(here, "public");
const SDK = resolve(here, "../../client-js/dist");
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".png": "image/png",
};

/** An HS256 JWT: the voter may join the rooms' tally groups (votes:*), not publish to them. */
export function voterToken(secret, user, ttlSeconds) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: user, iat: now, exp: now + ttlSeconds, sb_join: ["votes:*"] })}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

/**
 * Starts the server. Returns its URL and, for tests, switches that break the way to the node:
 * `refuseWebSockets` (upgrades are dropped, as by a proxy that does not carry WebSockets) and
 * `cut()` (every connection passed through is closed).
 */
export async function startVotingServer({ nodeUrl, secret, port = 0, host = "127.0.0.1", tokenTtlSeconds = 3600 }) {
  if (!secret || Buffer.byteLength(secret) < 32) {
    throw new Error("the node's HMAC secret (at least 32 bytes) is needed: SWITCHBOARD_AUTH_HMAC_SECRET");
  }
  const node = new URL(nodeUrl);
  const nodePort = Number(node.port || 80);
  const passed = new Set();
  const faults = { refuseWebSockets: false };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    try {
      if (url.pathname.startsWith("/lp/")) {
        return passThrough(req, res);
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        return res.writeHead(405).end();
      }
      if (url.pathname === "/token") {
        const asked = url.searchParams.get("user") ?? "";
        const user = /^voter-[a-z0-9]{4,16}$/.test(asked) ? asked : `voter-${randomBytes(4).toString("hex")}`;
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        return res.end(JSON.stringify({ user, token: voterToken(secret, user, tokenTtlSeconds) }));
      }
      const [root, rel] = url.pathname.startsWith("/sdk/")
        ? [SDK, url.pathname.slice(5)]
        : [PUBLIC, url.pathname === "/" ? "index.html" : url.pathname.slice(1)];
      const file = normalize(join(root, rel));
      if (!file.startsWith(root + "/")) {
        return res.writeHead(404).end();
      }
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
      res.end(body);
    } catch {
      if (!res.headersSent) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      }
    }
  });

  function passThrough(req, res) {
    const upstream = httpRequest(
      { host: node.hostname, port: nodePort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    const pair = [req.socket, upstream];
    passed.add(pair);
    const done = () => passed.delete(pair);
    upstream.on("close", done);
    upstream.on("error", () => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "text/plain" }).end("the node is unreachable\n");
      } else {
        res.destroy();
      }
    });
    req.pipe(upstream);
  }

  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== "/ws" || faults.refuseWebSockets) {
      socket.destroy();
      return;
    }
    const upstream = connect(nodePort, node.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      upstream.write(lines.join("\r\n") + "\r\n\r\n");
      if (head.length) {
        upstream.write(head);
      }
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
    const pair = [socket, upstream];
    passed.add(pair);
    const drop = () => {
      socket.destroy();
      upstream.destroy();
      passed.delete(pair);
    };
    upstream.on("error", drop);
    socket.on("error", drop);
    upstream.on("close", drop);
    socket.on("close", drop);
  });

  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, ok);
  });
  const address = server.address();
  return {
    url: `http://${host}:${address.port}`,
    faults,
    /** Closes every WebSocket and long-poll connection passed to the node. */
    cut() {
      for (const [a, b] of passed) {
        a.destroy();
        b.destroy();
      }
      passed.clear();
    },
    close() {
      this.cut();
      server.closeAllConnections?.();
      return new Promise((ok) => server.close(() => ok()));
    },
  };
}

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = await startVotingServer({
    nodeUrl: option("--node", process.env.SWITCHBOARD_NODE_URL ?? "http://127.0.0.1:8080"),
    secret: process.env.SWITCHBOARD_AUTH_HMAC_SECRET,
    port: Number(option("--port", "8090")),
  });
  console.log(`Voting room at ${started.url}/?room=demo (node ${option("--node", "http://127.0.0.1:8080")})`);
}
