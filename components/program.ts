import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { describeCertificate } from "./certificates";
import { FleetConfigError, loadFleetArgs, parseFleetConfig } from "./config/load";
import { CONFIG_NAMESPACE, SECRET_CONFIG_KEYS } from "./config/schema";
import { TrustFleet } from "./TrustFleet";

/**
 * The Pulumi program behind `index.ts`: read and validate the stack config, read the root files, declare
 * the fleet. Files are relative to `projectDir` (the directory of Pulumi.yaml). Root sets with a url, certsrv or
 * ldap source are fetched first, so a source that fails stops the preview before any resource is declared.
 */
export async function fleetFromStackConfig(projectDir: string): Promise<TrustFleet> {
  try {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const fleetConfig = parseFleetConfig(namespaceValues(pulumi.runtime.allConfig(), isStoredEncrypted));
    const secrets = {
      privateKey: config.getSecret("privateKey"),
      passphrase: config.getSecret("passphrase"),
      password: config.getSecret("password"),
      privateKeys: perServerKeys(await plainValue(config.getSecret("privateKeys"))),
      healthClientKey: config.getSecret("healthClientKey"),
      bastionPrivateKey: config.getSecret("bastionPrivateKey"),
      ldapPassword: await plainValue(config.getSecret("ldapPassword")),
      proxyCredentials: await plainValue(config.getSecret("proxyCredentials")),
      javaKeystorePassword: config.getSecret("javaKeystorePassword"),
    };
    const readFile = (path: string) => readFileSync(isAbsolute(path) ? path : join(projectDir, path));
    const { args, leftOut } = await loadFleetArgs(fleetConfig, secrets, readFile);
    for (const [setName, certificates] of leftOut) {
      const names = certificates.map(describeCertificate).join(", ");
      void pulumi.log.warn(`${CONFIG_NAMESPACE}:rootSets.${setName}: the source also answered ${names}, not pinned and so left out; pin its thumbprint once verified`);
    }
    return new TrustFleet(pulumi.getStack(), args);
  } catch (error) {
    // The engine prints a RunError as one message, without the program's stack trace.
    if (error instanceof FleetConfigError || error instanceof ConfigValueError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

class ConfigValueError extends Error {}

// The SDK knows which keys the stack stores encrypted but marks that function internal; without it, every
// value is treated as a secret (its parse error is not quoted).
const sdkConfigRuntime = pulumi.runtime as unknown as { isConfigSecret?: (fullKey: string) => boolean };
const isStoredEncrypted = (fullKey: string): boolean => sdkConfigRuntime.isConfigSecret?.(fullKey) ?? true;

/** A secret config value as plain text, for a fetch while the program runs; config values are known even in a preview. */
function plainValue(secret: pulumi.Output<string> | undefined): Promise<string | undefined> {
  return secret ? new Promise((resolve) => secret.apply((value) => resolve(value))) : Promise.resolve(undefined);
}

const SECRET_KEYS = new Set<string>(SECRET_CONFIG_KEYS);

/**
 * `trusted-roots:privateKeys` (server name to PEM key) from its JSON text, kept a secret. Pulumi's own
 * getSecretObject would quote the text in its error; no part of a secret may reach a message.
 */
function perServerKeys(text: string | undefined): pulumi.Output<Record<string, string>> | undefined {
  if (text === undefined) return undefined;
  let keys: unknown;
  try {
    keys = JSON.parse(text);
  } catch {
    keys = undefined;
  }
  if (!keys || typeof keys !== "object" || Array.isArray(keys) || !Object.values(keys).every((key) => typeof key === "string")) {
    throw new ConfigValueError(
      `${CONFIG_NAMESPACE}:privateKeys: not a map of server name to PEM private key (the value is a secret and not shown); set each with \`pulumi config set --secret --path '${CONFIG_NAMESPACE}:privateKeys.<server>' < key\``,
    );
  }
  return pulumi.secret(keys as Record<string, string>);
}

/**
 * Every `trusted-roots:*` key the stack sets, with structured values parsed from the JSON the engine passes:
 * a key the program does not read is an error, not silently ignored. The secret keys are read elsewhere and
 * never parsed here; a value the stack stores encrypted (`isSecret`) is never quoted in an error.
 */
export function namespaceValues(all: Record<string, string>, isSecret: (fullKey: string) => boolean): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
    const key = fullKey.slice(CONFIG_NAMESPACE.length + 1);
    if (SECRET_KEYS.has(key)) continue;
    if (/^\s*[[{]/.test(text)) {
      try {
        values[key] = JSON.parse(text);
      } catch (error) {
        const detail = isSecret(fullKey) ? "the value is a secret and not shown" : (error as Error).message;
        throw new ConfigValueError(`${fullKey}: not valid JSON (${detail}); set it with \`pulumi config set --path\` or as YAML in Pulumi.<stack>.yaml`);
      }
    } else {
      values[key] = text === "true" ? true : text === "false" ? false : text;
    }
  }
  return values;
}
