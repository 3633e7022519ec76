import { z } from "zod";
import { parseHostKeyPin } from "./hostKey";

/** A host key pin in any accepted form (see parseHostKeyPin), its problem as the validation message. */
export const hostKeyPinSchema = z.string().superRefine((value, context) => {
  try {
    parseHostKeyPin(value);
  } catch (error) {
    context.addIssue({ code: "custom", message: (error as Error).message });
  }
});

/** What a connection uses when it names no port or user. */
export const DEFAULT_SSH_PORT = 22;
export const DEFAULT_SSH_USER = "root";

const sshPort = z.number().int().min(1).max(65535).default(DEFAULT_SSH_PORT).meta({ description: "SSH port ({default})." });
const connectTimeoutSeconds = z.number().positive().default(15).meta({ description: "Connect timeout ({default})." });
/** Secrets are plain strings here; the schema marks them secret for the engine. */
const sshCredentials = {
  privateKey: z.string().optional().meta({ description: "OpenSSH private key.", secret: true }),
  passphrase: z.string().optional().meta({ description: "The private key's passphrase.", secret: true }),
  password: z.string().optional().meta({ description: "Password login.", secret: true }),
  /** Path of an ssh-agent socket, or true for $SSH_AUTH_SOCK. */
  agent: z.union([z.string(), z.boolean()]).optional().meta({ description: "An ssh-agent socket path, or true for $SSH_AUTH_SOCK." }),
};

const credentials = <T extends { privateKey?: string; password?: string; agent?: string | boolean }>(target: T) => Boolean(target.privateKey || target.password || target.agent);

/**
 * A jump host the connection goes through (ssh2 forwardOut, like `ssh -J`): its own pinned key and
 * credentials. A bastion is never unpinned.
 */
export const bastionSchema = z
  .object({
    host: z.string().min(1, "the bastion's host is empty").meta({ description: "DNS name or address." }),
    port: sshPort,
    user: z.string().min(1).default(DEFAULT_SSH_USER).meta({ description: "Login ({default})." }),
    hostKey: hostKeyPinSchema.meta({ description: "The bastion's pinned host key (required)." }),
    ...sshCredentials,
    connectTimeoutSeconds,
  })
  .refine(credentials, { message: "the bastion has no credentials: set its privateKey, password or agent", path: ["privateKey"] })
  .meta({ description: "A jump host with its own pinned key and credentials." });

/** How to reach one server over SSH. Secrets (privateKey, passphrase, password) are plain strings here. */
export const sshTargetSchema = z
  .object({
    host: z.string().min(1, "host is empty: give the server's DNS name or IP address").meta({ description: "DNS name or address." }),
    port: sshPort,
    user: z.string().min(1).default(DEFAULT_SSH_USER).meta({ description: "Login ({default}); non-root users need NOPASSWD sudo on Linux." }),
    hostKey: hostKeyPinSchema.optional().meta({ description: 'The pinned host key: a known_hosts line, "ssh-ed25519 AAAA..." or "SHA256:...".' }),
    insecureSkipHostKeyCheck: z.boolean().default(false).meta({ description: "Accept any host key (warned on every connection)." }),
    ...sshCredentials,
    /** Run scripts through `sudo -n`; defaults to true for any user but root. */
    sudo: z.boolean().optional().meta({ description: "Wrap Linux commands in sudo -n (default: when user is not root)." }),
    connectTimeoutSeconds,
    commandTimeoutSeconds: z.number().positive().default(600).meta({ description: "Per-command timeout ({default})." }),
    /** Extra attempts after a dial error (refused, unreachable, handshake timeout); never after auth or key errors. */
    retries: z.number().int().min(0).max(10).default(2).meta({ description: "Retries when unreachable ({default})." }),
    bastion: bastionSchema.optional().meta({ description: "A jump host the connection goes through (like ssh -J)." }),
  })
  .refine(credentials, {
    message: "no credentials: set privateKey (optionally with passphrase), password or agent",
    path: ["privateKey"],
  })
  .meta({ description: "An SSH connection with a pinned host key." });

export type SshTargetInput = z.input<typeof sshTargetSchema>;
export type SshTarget = z.output<typeof sshTargetSchema>;

/** "user@host:port" for messages. */
export function targetLabel(target: Pick<SshTarget, "host" | "port" | "user">): string {
  return `${target.user}@${target.host}${target.port === 22 ? "" : `:${target.port}`}`;
}

/** Validate a target; the error lists every problem by field. */
export function parseSshTarget(input: SshTargetInput, where = "connection"): SshTarget {
  const parsed = sshTargetSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${[where, ...issue.path].join(".")}: ${issue.message}`);
    throw new Error(problems.join("\n"));
  }
  return parsed.data;
}
