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

const credentials = <T extends { privateKey?: string; password?: string; agent?: string | boolean }>(target: T) => Boolean(target.privateKey || target.password || target.agent);

/**
 * A jump host the connection goes through (ssh2 forwardOut, like `ssh -J`): its own pinned key and
 * credentials. A bastion is never unpinned.
 */
export const bastionSchema = z
  .object({
    host: z.string().min(1, "the bastion's host is empty"),
    port: z.number().int().min(1).max(65535).default(DEFAULT_SSH_PORT),
    user: z.string().min(1).default(DEFAULT_SSH_USER),
    hostKey: hostKeyPinSchema,
    privateKey: z.string().optional(),
    passphrase: z.string().optional(),
    password: z.string().optional(),
    agent: z.union([z.string(), z.boolean()]).optional(),
    connectTimeoutSeconds: z.number().positive().default(15),
  })
  .refine(credentials, { message: "the bastion has no credentials: set its privateKey, password or agent", path: ["privateKey"] });

/** How to reach one server over SSH. Secrets (privateKey, passphrase, password) are plain strings here. */
export const sshTargetSchema = z
  .object({
    host: z.string().min(1, "host is empty: give the server's DNS name or IP address"),
    port: z.number().int().min(1).max(65535).default(DEFAULT_SSH_PORT),
    user: z.string().min(1).default(DEFAULT_SSH_USER),
    hostKey: hostKeyPinSchema.optional(),
    insecureSkipHostKeyCheck: z.boolean().default(false),
    privateKey: z.string().optional(),
    passphrase: z.string().optional(),
    password: z.string().optional(),
    /** Path of an ssh-agent socket, or true for $SSH_AUTH_SOCK. */
    agent: z.union([z.string(), z.boolean()]).optional(),
    /** Run scripts through `sudo -n`; defaults to true for any user but root. */
    sudo: z.boolean().optional(),
    connectTimeoutSeconds: z.number().positive().default(15),
    commandTimeoutSeconds: z.number().positive().default(600),
    /** Extra attempts after a dial error (refused, unreachable, handshake timeout); never after auth or key errors. */
    retries: z.number().int().min(0).max(10).default(2),
    /** Reach the server through this jump host. */
    bastion: bastionSchema.optional(),
  })
  .refine(credentials, {
    message: "no credentials: set privateKey (optionally with passphrase), password or agent",
    path: ["privateKey"],
  });

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
