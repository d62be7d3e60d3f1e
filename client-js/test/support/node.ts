import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { mintToken } from "./jwt.js";
import { waitFor } from "./wait.js";

/** client-js/ (this file is compiled to client-js/build/test/support/). */
export const CLIENT_JS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
/** The repository root. */
export const REPO_DIR = resolve(CLIENT_JS_DIR, "..");

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) {
    killGroup(child, "SIGKILL");
  }
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  try {
    process.kill(-child.pid, signal); // the process group: the JVM and the Redis it started
  } catch {
    // gone already
  }
}

/** Classpaths of the node and of the example worker. */
export interface Classpaths {
  node: string;
  worker: string;
}

/**
 * The classpaths, from SWITCHBOARD_NODE_CLASSPATH and SWITCHBOARD_WORKER_CLASSPATH (set by
 * client-js/pom.xml when Maven runs the tests), else computed once with Maven from the modules'
 * compiled classes and their dependencies (`mvn install -DskipTests` must have run; the local
 * repository is MAVEN_REPO_LOCAL when set).
 */
export function classpaths(): Classpaths {
  const node = process.env.SWITCHBOARD_NODE_CLASSPATH;
  const worker = process.env.SWITCHBOARD_WORKER_CLASSPATH;
  if (node && worker) {
    return { node, worker };
  }
  const cache = join(CLIENT_JS_DIR, "build", "classpaths.json");
  if (existsSync(cache)) {
    const cached = JSON.parse(readFileSync(cache, "utf8")) as Classpaths;
    if ([cached.node, cached.worker].every((cp) => cp.split(":").every((p) => existsSync(p)))) {
      return cached;
    }
  }
  const modules = { node: "cluster-node", worker: "examples/worker-java" };
  const args = ["-B", "-q"];
  if (process.env.MAVEN_REPO_LOCAL) {
    args.push(`-Dmaven.repo.local=${process.env.MAVEN_REPO_LOCAL}`);
  }
  args.push(
    "-f",
    join(REPO_DIR, "pom.xml"),
    "-pl",
    `${modules.node},${modules.worker}`,
    "dependency:build-classpath",
    "-Dmdep.includeScope=runtime",
    "-Dmdep.outputFile=target/sdk-test-classpath.txt",
  );
  try {
    execFileSync("mvn", args, { stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      "could not compute the node's classpath with Maven; build the modules first " +
        "(mvn -B -q install -DskipTests from the repository root) or set SWITCHBOARD_NODE_CLASSPATH " +
        `and SWITCHBOARD_WORKER_CLASSPATH.\n${String(err.stdout ?? "")}${String(err.stderr ?? "")}`,
    );
  }
  const read = (module: string) => {
    const classes = join(REPO_DIR, module, "target", "classes");
    if (!existsSync(classes)) {
      throw new Error(`${classes} is missing: build the modules first (mvn -B -q install -DskipTests)`);
    }
    return `${classes}:${readFileSync(join(REPO_DIR, module, "target", "sdk-test-classpath.txt"), "utf8").trim()}`;
  };
  const computed = { node: read(modules.node), worker: read(modules.worker) };
  mkdirSync(dirname(cache), { recursive: true });
  writeFileSync(cache, JSON.stringify(computed));
  return computed;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolvePort(port));
    });
  });
}

function java(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, "bin", "java") : "java";
}

/** The environment of a child JVM: ours without SWITCHBOARD_* (the test's settings decide). */
function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SWITCHBOARD_")));
}

/** A Switchboard node in its own JVM on free loopback ports, with a random HMAC secret and API key. */
export class TestNode {
  readonly secret = randomBytes(24).toString("hex");
  readonly apiKey = randomBytes(16).toString("hex");
  httpPort = 0;
  managementPort = 0;
  readonly dir = mkdtempSync(join(tmpdir(), "sb-sdk-node-"));
  private process: ChildProcess | undefined;
  private worker: ChildProcess | undefined;

  /** Base HTTP URL of the node. */
  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get logFile(): string {
    return join(this.dir, "node.log");
  }

  /** Starts the node and waits for /ready (and the HTTP port). */
  async start(options: { jvmOptions?: string[]; timeoutMs?: number } = {}): Promise<this> {
    const cp = classpaths();
    this.httpPort = await freePort();
    this.managementPort = await freePort();
    const remotePort = await freePort();
    const redisPort = await freePort();
    const logback = join(this.dir, "logback.xml");
    writeFileSync(
      logback,
      `<configuration>
  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%date{ISO8601} %-5level %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <logger name="io.switchboard" level="INFO"/>
  <root level="WARN"><appender-ref ref="OUT"/></root>
</configuration>
`,
    );
    const args = [
      "-Xmx512m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      `-Dlogback.configurationFile=${logback}`,
      "-Dswitchboard.node.host=127.0.0.1",
      "-Dswitchboard.node.port-offset=0",
      "-Dswitchboard.node.seed-nodes=",
      "-Dswitchboard.http.interface=127.0.0.1",
      `-Dswitchboard.http.port=${this.httpPort}`,
      `-Dswitchboard.remote.port=${remotePort}`,
      `-Dswitchboard.management.port=${this.managementPort}`,
      "-Dswitchboard.management.interface=127.0.0.1",
      "-Dswitchboard.api.grpc-port=0",
      "-Dswitchboard.auth.mode=jwt",
      `-Dswitchboard.auth.hmac-secret=${this.secret}`,
      `-Dswitchboard.api.key=${this.apiKey}`,
      `-Dswitchboard.redis.embedded.port=${redisPort}`,
      `-Dswitchboard.redis.embedded.data-dir=${join(this.dir, "redis")}`,
      `-Dpekko.persistence.snapshot-store.local.dir=${join(this.dir, "snapshots")}`,
      ...(options.jvmOptions ?? []),
      "-cp",
      cp.node,
      "io.switchboard.node.Main",
    ];
    this.process = this.spawnLogged(java(), args, this.logFile);
    const timeoutMs = options.timeoutMs ?? 120_000;
    await waitFor(
      `node /ready (log: ${this.logFile})`,
      async () => {
        if (this.process?.exitCode !== null) {
          throw new Error(`the node exited with ${this.process?.exitCode}:\n${this.logTail()}`);
        }
        const ready = await fetch(`http://127.0.0.1:${this.managementPort}/ready`).catch(() => undefined);
        if (ready?.status !== 200) {
          return false;
        }
        const root = await fetch(`${this.url}/`).catch(() => undefined);
        return root?.status === 200;
      },
      timeoutMs,
      250,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}\n${this.logTail()}`);
    });
    return this;
  }

  /** Starts the example worker (examples/worker-java) and waits until its routes are served. */
  async startWorker(timeoutMs = 90_000): Promise<void> {
    const cp = classpaths();
    this.worker = this.spawnLogged(
      java(),
      ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp.worker, "io.switchboard.examples.worker.VotesWorker", "--host", "127.0.0.1", "--port", String(this.httpPort), "--key", this.apiKey],
      join(this.dir, "worker.log"),
    );
    await waitFor(
      `the worker's routes (log: ${join(this.dir, "worker.log")})`,
      async () => {
        if (this.worker?.exitCode !== null) {
          throw new Error(`the worker exited with ${this.worker?.exitCode}`);
        }
        const info = (await this.api("Info", {})) as { routes?: { path?: string }[] };
        return (info.routes ?? []).some((r) => r.path === "/delay/:ms");
      },
      timeoutMs,
      250,
    );
  }

  /** Calls the HTTP/JSON backend API. */
  async api(call: string, body: unknown): Promise<unknown> {
    const response = await fetch(`${this.url}/api/${call}`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== 200) {
      throw new Error(`API ${call}: HTTP ${response.status} ${text}`);
    }
    return JSON.parse(text);
  }

  /** A token for `user`, valid `ttlSeconds`. */
  token(user: string, ttlSeconds = 3600): string {
    return mintToken(this.secret, user, ttlSeconds);
  }

  /** The last lines of the node's log. */
  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** Stops the worker and the node (SIGTERM, then SIGKILL after 15 s), with the node's Redis. */
  async stop(): Promise<void> {
    for (const child of [this.worker, this.process]) {
      if (!child) {
        continue;
      }
      killGroup(child, "SIGTERM");
      const exited = await waitFor("exit", () => child.exitCode !== null || child.signalCode !== null, 15_000, 100).then(
        () => true,
        () => false,
      );
      if (!exited) {
        killGroup(child, "SIGKILL");
      }
      killGroup(child, "SIGKILL"); // whatever is left of its group (the embedded Redis)
      children.delete(child);
    }
  }

  private spawnLogged(command: string, args: string[], log: string): ChildProcess {
    writeFileSync(log, "");
    const child = spawn(command, args, { cwd: this.dir, env: childEnv(), detached: true, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    const append = (chunk: Buffer) => {
      try {
        writeFileSync(log, chunk, { flag: "a" });
      } catch {
        // the directory may be gone at the very end
      }
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    return child;
  }
}

/**
 * Fails with a clear message when the node has no long-poll endpoint (`POST /lp/open` answers
 * 404): the server side of the long-poll contract (LONGPOLL-CONTRACT.md) is not in this build.
 */
export async function requireLongPoll(node: TestNode): Promise<void> {
  const answer = await fetch(`${node.url}/lp/open`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{not json",
  });
  await answer.text();
  if (answer.status === 404) {
    throw new Error(
      "the node has no long-poll endpoint (POST /lp/open answered 404): these tests need the server side " +
        "of the long-poll contract (LONGPOLL-CONTRACT.md, branch 'longpoll'); they pass once it is merged",
    );
  }
}
