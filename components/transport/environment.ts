import { readFileSync } from "node:fs";

/** SSH credentials as plain strings, the way a connection takes them. */
export interface SshCredentials {
  privateKey?: string;
  passphrase?: string;
  password?: string;
  /** An ssh-agent socket: used only when no key or password is given. */
  agent?: string;
}

/**
 * SSH credentials for a scan, a self-test or `pulumi import` (the stack file holds them encrypted, so they come
 * from the environment): TRUSTED_ROOTS_PRIVATE_KEY (PEM text) or TRUSTED_ROOTS_PRIVATE_KEY_FILE,
 * TRUSTED_ROOTS_PASSPHRASE, TRUSTED_ROOTS_PASSWORD; otherwise the ssh-agent at SSH_AUTH_SOCK.
 */
export function sshCredentialsFromEnvironment(env: NodeJS.ProcessEnv): SshCredentials {
  let privateKey = env.TRUSTED_ROOTS_PRIVATE_KEY;
  if (!privateKey && env.TRUSTED_ROOTS_PRIVATE_KEY_FILE) {
    try {
      privateKey = readFileSync(env.TRUSTED_ROOTS_PRIVATE_KEY_FILE, "utf8");
    } catch (error) {
      throw new Error(`TRUSTED_ROOTS_PRIVATE_KEY_FILE: cannot read ${env.TRUSTED_ROOTS_PRIVATE_KEY_FILE}: ${(error as Error).message}`);
    }
  }
  const { TRUSTED_ROOTS_PASSPHRASE: passphrase, TRUSTED_ROOTS_PASSWORD: password, SSH_AUTH_SOCK: agent } = env;
  return {
    ...(privateKey ? { privateKey } : {}),
    ...(passphrase ? { passphrase } : {}),
    ...(password ? { password } : {}),
    ...(!privateKey && !password && agent ? { agent } : {}),
  };
}
