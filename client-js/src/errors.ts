/**
 * Why an operation failed: the node's `Error.code` name (`"NO_ROUTE"`, `"TIMEOUT"`,
 * `"FORBIDDEN"`, … see protocol/README.md), or one of the SDK's own:
 *
 * - `"TIMEOUT"`: no answer within the operation's timeout (also the node's own code);
 * - `"DISCONNECTED"`: the connection went away with a request in flight that is not safe to
 *   repeat (requests to backends; joins and publishes are resent after a resume instead);
 * - `"CLOSED"`: the client was closed (by the application, or for good by the node).
 */
export class SwitchboardError extends Error {
  constructor(
    /** The error code name. */
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "SwitchboardError";
  }
}
