import { readFileSync } from "node:fs";
import { PLATFORM_NAMES, STORE_NAMES, type PlatformName, type StoreName } from "../platforms";
import { DEFAULT_SSH_PORT, DEFAULT_SSH_USER, parseHostKeyPin, sshCredentialsFromEnvironment, type SshTargetInput } from "../transport";

/**
 * A TrustStore's id names the store and how to reach it, `<user>@<host>:<port>/<platform>/<store>`, so that
 * `pulumi import trusted-roots:index:TrustStore <name> <id>` can read it. What an id cannot carry comes from the
 * environment, as for `trusted-roots scan`: the credentials (TRUSTED_ROOTS_PRIVATE_KEY_FILE, ..._PASSWORD, an
 * ssh-agent) and the pinned host key, from the known_hosts file TRUSTED_ROOTS_KNOWN_HOSTS names.
 */
export interface ImportTarget {
  connection: SshTargetInput;
  platform: PlatformName;
  store: StoreName;
}

const ID_PATTERN = /^(?:([^@/\s]+)@)?(\[[^\]]+\]|[^/:\s]+)(?::(\d+))?\/([a-z]+)\/([A-Za-z]+)$/;

export function storeId(connection: Pick<SshTargetInput, "host" | "port" | "user">, platform: PlatformName, store: StoreName): string {
  const host = connection.host.includes(":") ? `[${connection.host}]` : connection.host;
  return `${connection.user ?? DEFAULT_SSH_USER}@${host}:${connection.port ?? DEFAULT_SSH_PORT}/${platform}/${store}`;
}

const FIX = "an id looks like root@web01.contoso.test:22/debian/Root (user@host[:port]/platform/store)";

export function importTarget(id: string, env: NodeJS.ProcessEnv): ImportTarget {
  const match = ID_PATTERN.exec(id.trim());
  if (!match) throw new Error(`cannot import TrustStore ${JSON.stringify(id)}: ${FIX}`);
  const [, user = DEFAULT_SSH_USER, bracketedHost, port = String(DEFAULT_SSH_PORT), platform, store] = match;
  if (!(PLATFORM_NAMES as readonly string[]).includes(platform)) {
    throw new Error(`cannot import TrustStore ${JSON.stringify(id)}: platform "${platform}" is not one of ${PLATFORM_NAMES.join(", ")}; ${FIX}`);
  }
  if (!(STORE_NAMES as readonly string[]).includes(store)) {
    throw new Error(`cannot import TrustStore ${JSON.stringify(id)}: store "${store}" is not one of ${STORE_NAMES.join(", ")}; ${FIX}`);
  }
  if (store === "Java") {
    throw new Error(
      `cannot import TrustStore ${JSON.stringify(id)}: a Java store's keystore and password are not in an id; declare it (javaKeystores, or a TrustStore with store "Java") and run pulumi up: roots it finds already in place stay where they are`,
    );
  }
  const host = bracketedHost.replace(/^\[(.*)\]$/, "$1");
  return {
    connection: { host, port: Number(port), user, hostKey: knownHostKey(host, Number(port), env), ...sshCredentialsFromEnvironment(env) },
    platform: platform as PlatformName,
    store: store as StoreName,
  };
}

/** The host's key from the known_hosts file TRUSTED_ROOTS_KNOWN_HOSTS names: an import pins it like any connection. */
function knownHostKey(host: string, port: number, env: NodeJS.ProcessEnv): string {
  const file = env.TRUSTED_ROOTS_KNOWN_HOSTS;
  if (!file) {
    throw new Error(
      `importing a TrustStore on ${host} needs its pinned host key: set TRUSTED_ROOTS_KNOWN_HOSTS to a known_hosts file that lists it ` +
        `(ssh-keyscan -t ed25519 ${host} from a trusted network, checked against the server's own key)`,
    );
  }
  const names = new Set([host, `[${host}]:${port}`]);
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [hosts, ...key] = line.trim().split(/\s+/);
    if (!hosts || hosts.startsWith("#") || hosts.startsWith("|1|") || hosts.startsWith("@")) continue;
    if (hosts.split(",").some((name) => names.has(name))) {
      const pin = key.join(" ");
      parseHostKeyPin(pin);
      return pin;
    }
  }
  throw new Error(`${file} (TRUSTED_ROOTS_KNOWN_HOSTS) has no plain entry for ${host}${port === 22 ? "" : `:${port}`} (hashed entries cannot be searched); add one`);
}
