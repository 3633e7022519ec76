export { SshSession, withSession, bastionTunnel } from "./session";
export type { ExecResult, ScriptRunner, SessionOptions } from "./session";
export { TransportError } from "./errors";
export type { TransportFailure } from "./errors";
export { parseHostKeyPin, fingerprintOf } from "./hostKey";
export { sshTargetSchema, parseSshTarget, targetLabel } from "./target";
export type { SshTarget, SshTargetInput } from "./target";
export { mapWithConcurrency } from "./concurrency";
