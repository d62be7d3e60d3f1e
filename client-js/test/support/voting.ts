import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { REPO_DIR } from "./node.js";

/** The voting example's web server (examples/voting/server.mjs), started in this process. */
export interface VotingServer {
  url: string;
  faults: { refuseWebSockets: boolean };
  cut(): void;
  close(): Promise<void>;
}

export async function startVotingServer(nodeUrl: string, secret: string): Promise<VotingServer> {
  const module = (await import(pathToFileURL(join(REPO_DIR, "examples", "voting", "server.mjs")).href)) as {
    startVotingServer(options: { nodeUrl: string; secret: string }): Promise<VotingServer>;
  };
  return module.startVotingServer({ nodeUrl, secret });
}
