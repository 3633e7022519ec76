/** Which of the ways an SSH operation can fail; each has its own remedy. */
export type TransportFailure =
  | "unreachable"
  | "host key mismatch"
  | "host key not pinned"
  | "auth failed"
  | "timeout"
  | "sudo refused"
  | "command failed"
  | "output too large";

/** A failed SSH operation; the message always starts with the host and the failure kind. */
export class TransportError extends Error {
  constructor(
    readonly host: string,
    readonly failure: TransportFailure,
    readonly detail: string,
    readonly exitCode?: number,
  ) {
    super(`${host}: ${failure}: ${detail}`);
    this.name = "TransportError";
  }
}
