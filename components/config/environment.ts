import { readFileSync } from "node:fs";
import type { FleetSecrets } from "./load";

/**
 * Secrets for a scan or an import come from the environment (the stack file holds them encrypted):
 * TRUSTED_ROOTS_PRIVATE_KEY (PEM text) or TRUSTED_ROOTS_PRIVATE_KEY_FILE, TRUSTED_ROOTS_PASSPHRASE,
 * TRUSTED_ROOTS_PASSWORD; otherwise an ssh-agent at SSH_AUTH_SOCK. TRUSTED_ROOTS_LDAP_PASSWORD for ldap root sets,
 * TRUSTED_ROOTS_PROXY_CREDENTIALS (user:password) for their proxy.
 */
export function secretsFromEnvironment(env: NodeJS.ProcessEnv): FleetSecrets {
  let privateKey = env.TRUSTED_ROOTS_PRIVATE_KEY;
  if (!privateKey && env.TRUSTED_ROOTS_PRIVATE_KEY_FILE) {
    try {
      privateKey = readFileSync(env.TRUSTED_ROOTS_PRIVATE_KEY_FILE, "utf8");
    } catch (error) {
      throw new Error(`TRUSTED_ROOTS_PRIVATE_KEY_FILE: cannot read ${env.TRUSTED_ROOTS_PRIVATE_KEY_FILE}: ${(error as Error).message}`);
    }
  }
  return {
    privateKey,
    passphrase: env.TRUSTED_ROOTS_PASSPHRASE,
    password: env.TRUSTED_ROOTS_PASSWORD,
    agent: env.SSH_AUTH_SOCK,
    ldapPassword: env.TRUSTED_ROOTS_LDAP_PASSWORD,
    proxyCredentials: env.TRUSTED_ROOTS_PROXY_CREDENTIALS,
  };
}
