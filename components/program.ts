import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { describeCertificate } from "./certificates";
import { FleetConfigError, loadFleetArgs, parseFleetConfig } from "./config/load";
import { CONFIG_NAMESPACE } from "./config/schema";
import { TrustFleet } from "./TrustFleet";

/**
 * The Pulumi program behind `index.ts`: read and validate the stack config, read the root files, declare
 * the fleet. Files are relative to `projectDir` (the directory of Pulumi.yaml). Root sets with a url, certsrv or
 * ldap source are fetched first, so a source that fails stops the preview before any resource is declared.
 */
export async function fleetFromStackConfig(projectDir: string): Promise<TrustFleet> {
  try {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const fleetConfig = parseFleetConfig(namespaceValues(pulumi.runtime.allConfig()));
    const secrets = {
      privateKey: config.getSecret("privateKey"),
      passphrase: config.getSecret("passphrase"),
      password: config.getSecret("password"),
      privateKeys: config.getSecretObject<Record<string, string>>("privateKeys"),
      healthClientKey: config.getSecret("healthClientKey"),
      bastionPrivateKey: config.getSecret("bastionPrivateKey"),
      ldapPassword: await plainValue(config.getSecret("ldapPassword")),
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

/** A secret config value as plain text, for a fetch while the program runs; config values are known even in a preview. */
function plainValue(secret: pulumi.Output<string> | undefined): Promise<string | undefined> {
  return secret ? new Promise((resolve) => secret.apply((value) => resolve(value))) : Promise.resolve(undefined);
}

/**
 * Every `trusted-roots:*` key the stack sets, with structured values parsed from the JSON the engine passes:
 * a key the program does not read is an error, not silently ignored.
 */
export function namespaceValues(all: Record<string, string>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
    const key = fullKey.slice(CONFIG_NAMESPACE.length + 1);
    if (/^\s*[[{]/.test(text)) {
      try {
        values[key] = JSON.parse(text);
      } catch (error) {
        throw new ConfigValueError(`${fullKey}: not valid JSON (${(error as Error).message}); set it with \`pulumi config set --path\` or as YAML in Pulumi.<stack>.yaml`);
      }
    } else {
      values[key] = text === "true" ? true : text === "false" ? false : text;
    }
  }
  return values;
}
