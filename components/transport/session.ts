import type { Duplex } from "node:stream";
import { PHASES, timedPhase } from "./profile";
import { Client, type ConnectConfig } from "ssh2";
import { describeStderr } from "../platforms/clixml";
import type { CommandOutput, RemoteScript } from "../platforms/types";
import { backoffDelay } from "./concurrency";
import { TransportError } from "./errors";
import { fingerprintOf, HOST_KEY_ALGORITHMS, parseHostKeyPin, pinMatches, signatureAlgorithmsFor, type HostKeyPin } from "./hostKey";
import { parseSshTarget, targetLabel, type SshTarget, type SshTargetInput } from "./target";

export type ExecResult = CommandOutput;

/** Runs scripts on one host: an SSH session, or (the self-test's scratch store, unit tests) a local shell. */
export interface ScriptRunner {
  /** Names the host in every error. */
  readonly label: string;
  exec(script: RemoteScript, timeoutSeconds?: number): Promise<ExecResult>;
}

export interface SessionOptions {
  /** Called for every warning (an unpinned host, a retry); Pulumi providers route it to the engine's log. */
  warn?: (message: string) => void;
  /** Cap on stdout bytes per command (a whole Windows root store is ~1 MB). */
  maxStdoutBytes?: number;
}

const DIAL_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ECONNRESET", "EAI_AGAIN", "ENOTFOUND"]);
const STDERR_TAIL = 64 * 1024;

/** One SSH connection to one host, for one operation; every exec runs over it. */
export class SshSession implements ScriptRunner {
  private constructor(
    private readonly client: Client,
    readonly target: SshTarget,
    readonly label: string,
    private readonly maxStdoutBytes: number,
    /** The bastion's connection the session is tunnelled through, closed with it. */
    private readonly via?: Client,
  ) {}

  /** Connect with the host key pinned, retrying dial errors only. */
  static async open(input: SshTargetInput, options: SessionOptions = {}): Promise<SshSession> {
    const target = parseSshTarget(input);
    const label = targetLabel(target);
    const warn = options.warn ?? ((message: string) => process.emitWarning(message));
    const pin = target.hostKey ? parseHostKeyPin(target.hostKey) : undefined;
    if (!pin && !target.insecureSkipHostKeyCheck) {
      throw new TransportError(
        label,
        "host key not pinned",
        "set hostKey (a known_hosts line, 'ssh-ed25519 AAAA...' or 'SHA256:...'); " +
          "insecureSkipHostKeyCheck: true turns the check off and lets anyone on the path impersonate the server",
      );
    }
    if (!pin) warn(`${label}: insecureSkipHostKeyCheck is set: the server's identity is NOT verified`);
    for (let attempt = 1; ; attempt++) {
      let via: Client | undefined;
      try {
        via = target.bastion ? await connectBastion(target.bastion) : undefined;
        const client = await timedPhase(PHASES.connect, () => connectOnce(target, label, pin, via));
        return new SshSession(client, target, label, options.maxStdoutBytes ?? 64 * 1024 * 1024, via);
      } catch (error) {
        via?.end();
        if (!(error instanceof TransportError) || error.failure !== "unreachable" || attempt > target.retries) throw error;
        const delay = backoffDelay(attempt, 500);
        warn(`${error.message}; retrying in ${delay} ms (attempt ${attempt + 1} of ${target.retries + 1})`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** Run a script: its command, wrapped in `sudo -n` when the target needs it, with its stdin streamed in. */
  exec(script: RemoteScript, timeoutSeconds = this.target.commandTimeoutSeconds): Promise<ExecResult> {
    const useSudo = script.elevation === "sudo" && (this.target.sudo ?? this.target.user !== "root");
    const command = useSudo ? `sudo -n ${script.command}` : script.command;
    return new Promise<ExecResult>((resolve, reject) => {
      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      let stderr = "";
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.client.removeListener("close", onClose);
        outcome();
      };
      const onClose = () =>
        finish(() => reject(new TransportError(this.label, "unreachable", "the connection closed while the command ran")));
      this.client.once("close", onClose);
      const timer = setTimeout(() => {
        finish(() => reject(new TransportError(this.label, "timeout", `the command ran longer than ${timeoutSeconds} s and was abandoned`)));
        this.client.end();
      }, timeoutSeconds * 1000);
      this.client.exec(command, (error, channel) => {
        if (error) return finish(() => reject(new TransportError(this.label, "unreachable", `could not start the command: ${error.message}`)));
        channel.on("data", (chunk: Buffer) => {
          stdoutBytes += chunk.length;
          if (stdoutBytes > this.maxStdoutBytes) {
            channel.close();
            finish(() => reject(new TransportError(this.label, "output too large", `the command printed more than ${this.maxStdoutBytes} bytes`)));
            return;
          }
          stdout.push(chunk);
        });
        channel.stderr.on("data", (chunk: Buffer) => {
          stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_TAIL);
        });
        channel.on("close", (code: number | null, signal?: string) => {
          const exitCode = code ?? (signal ? 128 : 255);
          const result = { stdout: Buffer.concat(stdout).toString("utf8"), stderr, exitCode };
          if (useSudo && exitCode !== 0 && /^sudo: /m.test(stderr) && stdoutBytes === 0) {
            finish(() =>
              reject(
                new TransportError(
                  this.label,
                  "sudo refused",
                  `user ${this.target.user} may not run '${script.command}' through 'sudo -n' (no password prompt is possible): ` +
                    `${lastLine(stderr)}; grant it NOPASSWD in sudoers or connect as root`,
                  exitCode,
                ),
              ),
            );
            return;
          }
          finish(() => resolve(result));
        });
        channel.on("error", (channelError: Error) =>
          finish(() => reject(new TransportError(this.label, "unreachable", `the command's channel failed: ${channelError.message}`))),
        );
        channel.end(script.stdin);
      });
    });
  }

  /** Like exec, but a failure (the script's own check, else a non-zero exit) becomes a "command failed" error. */
  async run(script: RemoteScript, timeoutSeconds?: number): Promise<ExecResult> {
    const result = await this.exec(script, timeoutSeconds);
    const failure = script.check ? script.check(result) : result.exitCode !== 0 ? `exit code ${result.exitCode}: ${lastLines(describeStderr(result.stderr))}` : undefined;
    if (failure !== undefined) throw new TransportError(this.label, "command failed", failure, result.exitCode);
    return result;
  }

  close(): void {
    this.client.end();
    this.via?.end();
  }
}

/** Open a session, run `work`, always close. */
export async function withSession<T>(
  target: SshTargetInput,
  work: (session: SshSession) => Promise<T>,
  options?: SessionOptions,
): Promise<T> {
  const session = await SshSession.open(target, options);
  try {
    return await work(session);
  } finally {
    session.close();
  }
}

/** TCP streams opened from a bastion (the health check's HTTPS request); the caller closes it. */
export async function bastionTunnel(bastion: NonNullable<SshTarget["bastion"]>): Promise<{ tunnel: (host: string, port: number) => Promise<Duplex>; close(): void }> {
  const client = await connectBastion(bastion);
  return {
    tunnel: (host, port) =>
      new Promise((resolve, reject) => client.forwardOut("127.0.0.1", 0, host, port, (error, stream) => (error ? reject(error) : resolve(stream)))),
    close: () => client.end(),
  };
}

/** The jump host's connection, pinned and authenticated like any server's; its errors name it as the bastion. */
function connectBastion(bastion: NonNullable<SshTarget["bastion"]>): Promise<Client> {
  const target = parseSshTarget({ ...bastion, retries: 0 }, "connection.bastion");
  return connectOnce(target, `${targetLabel(target)} (bastion)`, parseHostKeyPin(bastion.hostKey));
}

function connectOnce(target: SshTarget, label: string, pin: HostKeyPin | undefined, via?: Client): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let presented: Buffer | undefined;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
    };
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: target.connectTimeoutSeconds * 1000,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      hostVerifier: (key: Buffer) => {
        presented = key;
        return pin ? pinMatches(pin, key) : true;
      },
    };
    config.algorithms = { serverHostKey: pin?.kind === "key" ? signatureAlgorithmsFor(pin.keyType) : [...HOST_KEY_ALGORITHMS] };
    if (target.privateKey) config.privateKey = target.privateKey;
    if (target.passphrase) config.passphrase = target.passphrase;
    if (target.password) config.password = target.password;
    if (target.agent) config.agent = target.agent === true ? process.env.SSH_AUTH_SOCK : target.agent;
    client.on("ready", () => settle(() => resolve(client)));
    client.on("error", (error: Error & { level?: string; code?: string }) => {
      client.end();
      settle(() => reject(classify(error, label, pin, presented, target)));
    });
    client.on("close", () =>
      settle(() => reject(new TransportError(label, "unreachable", "the server closed the connection during the handshake"))),
    );
    const connect = () => {
      try {
        client.connect(config);
        // Every exchange here is a small request waiting for a small reply (key exchange, auth, channel open,
        // exec, exit status): with Nagle's algorithm on, each waits out the server's delayed ACK (40 ms on
        // Linux), which made a 10 ms observe take 140 ms. OpenSSH's own client sets TCP_NODELAY too.
        client.setNoDelay(true);
      } catch (error) {
        settle(() => reject(new TransportError(label, "auth failed", `the private key cannot be used: ${(error as Error).message}`)));
      }
    };
    if (!via) return connect();
    // Through the bastion: a direct-tcpip channel to the server becomes this connection's socket.
    via.forwardOut("127.0.0.1", 0, target.host, target.port, (error, stream) => {
      if (error) {
        settle(() => reject(new TransportError(label, "unreachable", `the bastion could not open a channel to ${target.host}:${target.port}: ${error.message}`)));
        return;
      }
      config.sock = stream;
      connect();
    });
  });
}

function classify(
  error: Error & { level?: string; code?: string },
  label: string,
  pin: HostKeyPin | undefined,
  presented: Buffer | undefined,
  target: SshTarget,
): TransportError {
  if (pin && presented && !pinMatches(pin, presented)) {
    return new TransportError(
      label,
      "host key mismatch",
      `the server presented ${fingerprintOf(presented)} but ${pin.fingerprint} is pinned; nothing was sent. ` +
        "If the server was rebuilt, verify the new key out of band and update hostKey; otherwise someone may be intercepting",
    );
  }
  if (error.level === "client-authentication") {
    return new TransportError(label, "auth failed", `the server refused user ${target.user} with the configured ${credentialKinds(target)}`);
  }
  if (error.level === "client-timeout") {
    return new TransportError(label, "unreachable", `no SSH handshake within ${target.connectTimeoutSeconds} s`);
  }
  if (error.code && DIAL_ERRORS.has(error.code)) {
    return new TransportError(label, "unreachable", `${error.code} (${error.message})`);
  }
  if (/private key|passphrase|parse/i.test(error.message)) {
    return new TransportError(label, "auth failed", `the private key cannot be used: ${error.message}`);
  }
  return new TransportError(label, "unreachable", error.message);
}

function credentialKinds(target: SshTarget): string {
  return [target.privateKey && "private key", target.password && "password", target.agent && "agent"].filter(Boolean).join(", ");
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop() ?? "";
}

function lastLines(text: string, count = 5): string {
  return text.trim().split("\n").slice(-count).join(" | ") || "(no stderr)";
}
