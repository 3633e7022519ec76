import { sshCredentialsFromEnvironment } from "../transport/environment";
import type { FleetSecrets } from "./load";

/**
 * A scan's secrets come from the environment (the stack file holds them encrypted): the SSH credentials
 * (sshCredentialsFromEnvironment), TRUSTED_ROOTS_LDAP_PASSWORD for ldap root sets and
 * TRUSTED_ROOTS_PROXY_CREDENTIALS (user:password) for their proxy, TRUSTED_ROOTS_JAVA_KEYSTORE_PASSWORD for
 * application truststores.
 */
export function secretsFromEnvironment(env: NodeJS.ProcessEnv): FleetSecrets {
  return {
    ...sshCredentialsFromEnvironment(env),
    // The fleet decides per connection whether the agent is used (a bastion may use it beside a server key).
    agent: env.SSH_AUTH_SOCK,
    ldapPassword: env.TRUSTED_ROOTS_LDAP_PASSWORD,
    proxyCredentials: env.TRUSTED_ROOTS_PROXY_CREDENTIALS,
    javaKeystorePassword: env.TRUSTED_ROOTS_JAVA_KEYSTORE_PASSWORD,
  };
}
