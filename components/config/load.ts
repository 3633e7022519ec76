import type * as pulumi from "@pulumi/pulumi";
import { DEFAULT_SSH_PORT, DEFAULT_SSH_USER } from "../transport";
import { z } from "zod";
import { chainCertificateProblems, matchesThumbprint, normalizeThumbprint, parseCertificates, requireRoots, uniqueCertificates, type Certificate } from "../certificates";
import type { HealthCheckInput } from "../resources/health";
import { fetchRoots, remoteSourceOf } from "../sources";
import type { ConnectionArgs, ConnectionInput } from "../resources/shared";
import type { FleetServer, TrustFleetArgs } from "../TrustFleet";
import { parse as parseYaml } from "yaml";
import { CONFIG_NAMESPACE, EMPTY_GROUP, fleetConfigSchema, inventoryFileSchema, SECRET_CONFIG_KEYS, type FleetConfig, type ServerConfig } from "./schema";
import { keysAt, suggestKey } from "./unknownKeys";
import type { CertificateListName } from "../serverCore";
import { keystoreLocationProblem } from "../platforms/java";

/** Secrets come from secret config and stay Pulumi secrets (Outputs) all the way into the state. */
export interface FleetSecrets {
  privateKey?: pulumi.Input<string>;
  passphrase?: pulumi.Input<string>;
  password?: pulumi.Input<string>;
  /** Per server name, overriding the fleet-wide ones. */
  privateKeys?: pulumi.Input<Record<string, string>>;
  healthClientKey?: pulumi.Input<string>;
  /** The bastions' key; without it a bastion gets the servers' own credentials. */
  bastionPrivateKey?: pulumi.Input<string>;
  /**
   * The password of LDAP root sets' bindDn. Plain: it is used while the program runs, to fetch, and never
   * reaches the state.
   */
  ldapPassword?: string;
  /** The login (user:password) of the root sets' HTTP proxy; plain for the same reason as ldapPassword. */
  proxyCredentials?: string;
  /** The password of the servers' application truststores (javaKeystores of kind file). */
  javaKeystorePassword?: pulumi.Input<string>;
  /** An ssh-agent socket, used when no key or password is given. */
  agent?: string;
}

export interface FleetArgsOptions {
  /** Resolve health checks (files, client key); a scan does not run them. Default true. */
  healthChecks?: boolean;
  /** The url, certsrv and ldap root sets, fetched and pinned (fetchRootSets), by set name. */
  fetched?: ReadonlyMap<string, FetchedRootSet>;
}

/** A fetched root set: its pinned certificates, or why there are none. */
export type FetchedRootSet = { certificates: Certificate[]; leftOut: Certificate[] } | { problem: string };

/** A stack config that cannot be used; the message has one line per problem, each naming its config key. */
export class FleetConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`the stack configuration has ${problems.length} problem(s):\n  - ${problems.join("\n  - ")}`);
    this.name = "FleetConfigError";
  }
}

/** `servers[0].hostKey` for a zod path. */
function propertyPath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`)).join("").replace(/^\./, "");
}

function configKey(path: readonly PropertyKey[]): string {
  return path.length === 0 ? CONFIG_NAMESPACE : `${CONFIG_NAMESPACE}:${propertyPath(path)}`;
}

/**
 * Validate raw config values (as `pulumi.Config.getObject` returns them; every key of the namespace). Secret
 * keys are read elsewhere; any other key the schema does not know is an error naming the nearest valid key.
 */
export function parseFleetConfig(raw: unknown): FleetConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new FleetConfigError([`${CONFIG_NAMESPACE}: the configuration is empty or not a set of keys; declare at least ${CONFIG_NAMESPACE}:servers`]);
  }
  const secret = new Set<string>(SECRET_CONFIG_KEYS);
  const values = Object.fromEntries(Object.entries(raw).filter(([key]) => !secret.has(key)));
  const parsed = fleetConfigSchema.safeParse(values);
  if (!parsed.success) throw new FleetConfigError(parsed.error.issues.flatMap((issue) => describeIssue(issue, fleetConfigSchema, configKey, SECRET_CONFIG_KEYS)));
  return parsed.data;
}

/**
 * One sentence per zod issue, naming its key with `keyOf`; an unknown key names the nearest valid one (those
 * of `schema` at that path, plus `topLevelKeys` read elsewhere at the top).
 */
function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType, keyOf: (path: readonly PropertyKey[]) => string, topLevelKeys: readonly string[] = []): string[] {
  if (issue.code !== "unrecognized_keys") return [`${keyOf(issue.path)}: ${issue.message}`];
  const valid = [...keysAt(schema, issue.path), ...(issue.path.length === 0 ? topLevelKeys : [])];
  return issue.keys.map((key) => `${keyOf([...issue.path, key])}: unknown key; ${suggestKey(key, valid)}`);
}

/**
 * Turn validated config into TrustFleet arguments: read every root set, check declared thumbprints,
 * resolve groups per server. Collects every problem before failing, so nothing is half-declared.
 */
export function fleetArgsFromConfig(
  config: FleetConfig,
  secrets: FleetSecrets,
  readFile: (path: string) => Buffer,
  options: FleetArgsOptions = {},
): TrustFleetArgs {
  const problems: string[] = [];
  const rootSets = new Map(Object.entries(config.rootSets).map(([setName, set]) => [setName, rootSetCertificates(setName, set, readFile, options.fetched, problems)]));
  const declared = declaredServers(config, readFile, problems);
  const servers = declared.map(({ server, where }) => {
    const lists = serverCertificateLists(server, where, config, rootSets, problems);
    if (!server.hostKey && !server.insecureSkipHostKeyCheck) {
      problems.push(`${where}.hostKey: ${server.name} has no pinned host key; add hostKey (ssh-keyscan -t ed25519 ${server.host}) or, knowingly, insecureSkipHostKeyCheck: true`);
    }
    return {
      name: server.name,
      previousNames: server.previousNames,
      connection: connectionFor(server, config, secrets, where, problems),
      platform: server.platform,
      ...lists,
      mode: config.mode,
      afterChange: server.afterChange ?? config.defaults.afterChange,
      testCommand: server.testCommand ?? config.defaults.testCommand,
      healthCheck: options.healthChecks === false ? undefined : healthCheckFor(server, config, secrets, readFile, where, problems),
      retainOnDelete: config.retainOnDelete,
      groups: server.groups,
      tags: server.tags,
      javaKeystores: server.javaKeystores,
      ...javaKeystorePasswordFor(server, secrets, where, problems),
    } satisfies FleetServer;
  });
  if (!secrets.privateKey && !secrets.password && !secrets.privateKeys && !secrets.agent) {
    problems.push(`${CONFIG_NAMESPACE}:privateKey: no credentials; set one with \`pulumi config set --secret ${CONFIG_NAMESPACE}:privateKey < key\` (or ${CONFIG_NAMESPACE}:password)`);
  }
  if (problems.length > 0) throw new FleetConfigError(problems);
  return { servers, rollout: config.rollout };
}

/** An application truststore's password: the secret javaKeystorePassword, required once a server declares one. */
function javaKeystorePasswordFor(server: ServerConfig, secrets: FleetSecrets, where: string, problems: string[]): Pick<FleetServer, "javaKeystorePassword"> {
  const truststores = server.javaKeystores.filter((keystore) => keystore.kind === "file");
  server.javaKeystores.forEach((keystore, index) => {
    const wrongPath = keystoreLocationProblem(server.platform, keystore);
    if (wrongPath) problems.push(`${where}.javaKeystores[${index}]: ${wrongPath}`);
  });
  if (truststores.length === 0) return {};
  if (secrets.javaKeystorePassword === undefined) {
    problems.push(`${CONFIG_NAMESPACE}:javaKeystorePassword: ${server.name} declares the truststore ${truststores[0].path} but its password is not set (pulumi config set --secret ${CONFIG_NAMESPACE}:javaKeystorePassword)`);
    return {};
  }
  return { javaKeystorePassword: secrets.javaKeystorePassword };
}

type RootSetConfig = FleetConfig["rootSets"][string];

/** One root set's certificates: its files, its fetched source, its inline PEM; each declared thumbprint must be among them. */
function rootSetCertificates(setName: string, set: RootSetConfig, readFile: (path: string) => Buffer, fetched: FleetArgsOptions["fetched"], problems: string[]): Certificate[] {
  const key = `${CONFIG_NAMESPACE}:rootSets.${setName}`;
  const certificates: Certificate[] = [];
  set.files.forEach((file, index) => {
    try {
      certificates.push(...parseCertificates(readFile(file), { name: `${key}.files[${index}] (${file})` }));
    } catch (error) {
      problems.push((error as Error).message.replace(/^.*?ENOENT.*$/, `${key}.files[${index}]: no such file: ${file}`));
    }
  });
  if (remoteSourceOf(set)) {
    const result = fetched?.get(setName) ?? { problem: `${key}: not fetched (load the config with loadFleetArgs, which fetches url, certsrv and ldap sets)` };
    if ("problem" in result) problems.push(result.problem);
    else certificates.push(...result.certificates);
  }
  if (set.pem) {
    try {
      certificates.push(...parseCertificates(set.pem, { name: `${key}.pem` }));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  for (const thumbprint of set.thumbprints.map(normalizeThumbprint)) {
    if (!certificates.some((certificate) => matchesThumbprint(certificate, thumbprint))) {
      problems.push(`${key}.thumbprints: no certificate in the set has thumbprint ${thumbprint}; check the files against the thumbprint list`);
    }
  }
  return certificates;
}

/** The servers of the config and of its inventory file, each with the key that names it in messages. */
function declaredServers(config: FleetConfig, readFile: (path: string) => Buffer, problems: string[]): { server: ServerConfig; where: string }[] {
  const inventoried = config.inventory === undefined ? [] : readInventory(config.inventory, readFile, problems);
  const declared = [
    ...config.servers.map((server, index) => ({ server, where: `${CONFIG_NAMESPACE}:servers[${index}]` })),
    ...inventoried.map((server, index) => ({ server, where: `${CONFIG_NAMESPACE}:inventory (${config.inventory}) servers[${index}]` })),
  ];
  if (declared.length === 0 && problems.length === 0) {
    problems.push(`${CONFIG_NAMESPACE}:servers: declare at least one server, in ${CONFIG_NAMESPACE}:servers or in a file named by ${CONFIG_NAMESPACE}:inventory`);
  }
  return declared;
}


/**
 * A server's five certificate lists: each its groups' sets of that list (the server's own `roots` added to its
 * roots), unknown groups and sets named, roots checked to be roots and the chain lists against them.
 */
function serverCertificateLists(
  server: ServerConfig,
  where: string,
  config: FleetConfig,
  rootSets: ReadonlyMap<string, Certificate[]>,
  problems: string[],
): Record<CertificateListName, Certificate[]> {
  const groups = server.groups.map((groupName) => {
    const group = config.groups[groupName];
    if (!group) problems.push(`${where}.groups: unknown group "${groupName}"; define it under ${CONFIG_NAMESPACE}:groups`);
    return { groupName, group: group ?? EMPTY_GROUP };
  });
  const setsOf = (names: readonly string[], key: string) =>
    names.flatMap((setName) => {
      const set = rootSets.get(setName);
      if (!set) problems.push(`${key}: unknown root set "${setName}"; define it under ${CONFIG_NAMESPACE}:rootSets`);
      return set ?? [];
    });
  const fromGroups = (list: CertificateListName) => groups.flatMap(({ groupName, group }) => setsOf(group[list], `${CONFIG_NAMESPACE}:groups.${groupName}.${list}`));
  let roots: Certificate[] = [];
  try {
    roots = requireRoots(uniqueCertificates([...fromGroups("roots"), ...setsOf(server.roots, `${where}.roots`)]), `${where} (${server.name}) roots`);
  } catch (error) {
    problems.push((error as Error).message);
  }
  const [intermediates, crossSigned, clientAuthIssuers, distrusted] = (["intermediates", "crossSigned", "clientAuthIssuers", "distrusted"] as const).map((list) => uniqueCertificates(fromGroups(list)));
  problems.push(...chainCertificateProblems(roots, intermediates, crossSigned).map((problem) => `${where} (${server.name}) ${problem}`));
  if (clientAuthIssuers.length > 0 && server.platform !== "windows") {
    problems.push(`${where}: clientAuthIssuers are for the Windows "ClientAuthIssuer" store (SChannel); ${server.name} is ${server.platform}`);
  }
  return { roots, intermediates, crossSigned, clientAuthIssuers, distrusted };
}

/**
 * Fetch every url, certsrv and ldap root set (all at once; each request has its own timeout) and keep the pinned
 * certificates. A source that fails becomes a problem naming the set's key, so the config error lists them all.
 */
export async function fetchRootSets(
  config: FleetConfig,
  readFile: (path: string) => Buffer,
  { ldapPassword, proxyCredentials }: Pick<FleetSecrets, "ldapPassword" | "proxyCredentials"> = {},
): Promise<Map<string, FetchedRootSet>> {
  const remote = Object.entries(config.rootSets).flatMap(([setName, set]) => {
    const source = remoteSourceOf(set);
    return source ? [{ setName, set, source }] : [];
  });
  const results = await Promise.all(
    remote.map(async ({ setName, set, source }): Promise<[string, FetchedRootSet]> => {
      const key = `${CONFIG_NAMESPACE}:rootSets.${setName}`;
      let ca: string | undefined;
      if (set.fetch?.caBundleFile) {
        try {
          ca = readFile(set.fetch.caBundleFile).toString("utf8");
        } catch {
          return [setName, { problem: `${key}.fetch.caBundleFile: cannot read ${set.fetch.caBundleFile}` }];
        }
      }
      if (source.kind === "ldap" && source.bindDn && ldapPassword === undefined) {
        return [setName, { problem: `${key}.ldap.bindDn: the bind needs a password: pulumi config set --secret ${CONFIG_NAMESPACE}:ldapPassword` }];
      }
      if (set.fetch?.proxy && proxyCredentials !== undefined && !proxyCredentials.includes(":")) {
        return [setName, { problem: `${CONFIG_NAMESPACE}:proxyCredentials: must be user:password (the value is a secret and not shown)` }];
      }
      try {
        const { certificates, leftOut } = await fetchRoots({
          source,
          thumbprints: set.thumbprints.map(normalizeThumbprint),
          fetch: { timeoutSeconds: set.fetch?.timeoutSeconds, proxy: set.fetch?.proxy, proxyCredentials: set.fetch?.proxy ? proxyCredentials : undefined, ca },
          name: `${key}.${source.kind}`,
          ldapPassword,
        });
        return [setName, { certificates, leftOut }];
      } catch (error) {
        return [setName, { problem: `${(error as Error).message}; nothing was applied` }];
      }
    }),
  );
  return new Map(results);
}

/** fetchRootSets, then fleetArgsFromConfig: what a program and the scan use. */
export async function loadFleetArgs(
  config: FleetConfig,
  secrets: FleetSecrets,
  readFile: (path: string) => Buffer,
  options: Omit<FleetArgsOptions, "fetched"> = {},
): Promise<{ args: TrustFleetArgs; leftOut: Map<string, Certificate[]> }> {
  const fetched = await fetchRootSets(config, readFile, secrets);
  const leftOut = new Map([...fetched].flatMap(([setName, result]) => ("leftOut" in result && result.leftOut.length > 0 ? [[setName, result.leftOut] as const] : [])));
  return { args: fleetArgsFromConfig(config, secrets, readFile, { ...options, fetched }), leftOut };
}

/** The servers of an inventory file; every problem (unreadable, not YAML, an unknown key) names the file and the key. */
function readInventory(file: string, readFile: (path: string) => Buffer, problems: string[]): ServerConfig[] {
  const where = `${CONFIG_NAMESPACE}:inventory (${file})`;
  let document: unknown;
  try {
    document = parseYaml(readFile(file).toString("utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    problems.push(`${where}: ${reason}`);
    return [];
  }
  if (document === null || typeof document !== "object") {
    problems.push(`${where} (the file): expected a list of servers or { servers: [...] }`);
    return [];
  }
  // A bare list is the servers list.
  const parsed = inventoryFileSchema.safeParse(Array.isArray(document) ? { servers: document } : document);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.flatMap((issue) => describeIssue(issue, inventoryFileSchema, (path) => `${where} ${propertyPath(path)}`)));
    return [];
  }
  return parsed.data.servers;
}

function connectionFor(server: ServerConfig, config: FleetConfig, secrets: FleetSecrets, where: string, problems: string[]): ConnectionArgs {
  const base: ConnectionInput = {
    host: server.host,
    port: server.port ?? config.defaults.port ?? DEFAULT_SSH_PORT,
    user: server.user ?? config.defaults.user ?? DEFAULT_SSH_USER,
    hostKey: server.hostKey,
    insecureSkipHostKeyCheck: server.insecureSkipHostKeyCheck,
    sudo: server.sudo,
  };
  const definedBase = Object.fromEntries(Object.entries(base).filter(([, value]) => value !== undefined)) as ConnectionInput;
  const perServerKey = secrets.privateKeys ? liftOutput(secrets.privateKeys, (keys) => keys[server.name]) : undefined;
  const credentials = {
    ...(perServerKey || secrets.privateKey ? { privateKey: perServerKey ?? secrets.privateKey } : {}),
    ...(secrets.passphrase ? { passphrase: secrets.passphrase } : {}),
    ...(secrets.password ? { password: secrets.password } : {}),
    ...(secrets.agent && !secrets.privateKey && !perServerKey && !secrets.password ? { agent: secrets.agent } : {}),
  };
  const bastion = server.bastion ?? config.defaults.bastion;
  const { shareServerKey, ...bastionAddress } = bastion ?? {};
  const bastionCredentials = bastion ? bastionCredentialsFor(secrets, shareServerKey ? credentials : {}) : {};
  if (bastion && Object.keys(bastionCredentials).length === 0) {
    problems.push(
      `${where}.bastion: no credentials for the bastion ${bastion.host}: set the secret ${CONFIG_NAMESPACE}:bastionPrivateKey, use an ssh-agent, ` +
        "or set bastion.shareServerKey: true to log in to it with the servers' key too (a password is never sent to another host)",
    );
  }
  return {
    ...definedBase,
    ...credentials,
    // Port and user default where the connection is parsed (transport/target.ts), as for the server's own.
    ...(bastion ? { bastion: { ...bastionAddress, ...bastionCredentials } } : {}),
  } as ConnectionArgs;
}

/**
 * What the bastion is given: its own key, else the servers' key where the config shares it explicitly, else the
 * ssh-agent. Never a password: one meant for the servers would hand the jump host's owner a login to them.
 */
function bastionCredentialsFor(secrets: FleetSecrets, shared: { privateKey?: unknown; passphrase?: unknown }): Record<string, unknown> {
  if (secrets.bastionPrivateKey) return { privateKey: secrets.bastionPrivateKey };
  if (shared.privateKey) return { privateKey: shared.privateKey, ...(shared.passphrase ? { passphrase: shared.passphrase } : {}) };
  return secrets.agent ? { agent: secrets.agent } : {};
}

function healthCheckFor(
  server: ServerConfig,
  config: FleetConfig,
  secrets: FleetSecrets,
  readFile: (path: string) => Buffer,
  where: string,
  problems: string[],
): pulumi.Input<HealthCheckInput> | undefined {
  const health = server.healthCheck ?? config.defaults.healthCheck;
  if (!health) return undefined;
  const read = (file: string | undefined, key: string) => {
    if (!file) return undefined;
    try {
      return readFile(file).toString("utf8");
    } catch {
      problems.push(`${where}.healthCheck.${key}: cannot read ${file}`);
      return undefined;
    }
  };
  const cert = read(health.clientCertificateFile, "clientCertificateFile");
  if (cert && !secrets.healthClientKey) {
    problems.push(`${CONFIG_NAMESPACE}:healthClientKey: the health check presents ${health.clientCertificateFile} but its key is not set (pulumi config set --secret ${CONFIG_NAMESPACE}:healthClientKey < client.key)`);
  }
  const url = health.url.replace("{host}", server.host);
  return {
    url,
    expectStatus: health.expectStatus,
    caCertificate: read(health.caCertificateFile, "caCertificateFile"),
    insecureSkipTlsVerify: health.insecureSkipTlsVerify,
    tlsVersion: health.tlsVersion,
    timeoutSeconds: health.timeoutSeconds,
    ...(cert && secrets.healthClientKey ? { clientCertificate: { cert, key: secrets.healthClientKey } } : {}),
  } as pulumi.Input<HealthCheckInput>;
}

// Secrets may be plain strings (tests) or Outputs (the program); keep them Outputs when they are.
function liftOutput<T, U>(value: pulumi.Input<T>, pick: (plain: T) => U): pulumi.Input<U> {
  const maybeOutput = value as { apply?: (f: (plain: T) => U) => pulumi.Input<U> };
  return typeof maybeOutput.apply === "function" ? maybeOutput.apply(pick) : pick(value as T);
}
