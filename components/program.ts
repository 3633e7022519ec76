import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { fleetArgsFromConfig, parseFleetConfig } from "./config/load";
import { CONFIG_NAMESPACE } from "./config/schema";
import { TrustFleet } from "./TrustFleet";

/**
 * The Pulumi program behind `index.ts`: read and validate the stack config, read the root files, declare
 * the fleet. Files are relative to `projectDir` (the directory of Pulumi.yaml).
 */
export function fleetFromStackConfig(projectDir: string): TrustFleet {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const raw: Record<string, unknown> = {};
  for (const key of ["servers", "rootSets", "groups", "rollout", "defaults", "retainOnDelete"]) {
    const value = config.getObject<unknown>(key);
    if (value !== undefined) raw[key] = value;
  }
  const mode = config.get("mode");
  if (mode !== undefined) raw.mode = mode;
  const fleetConfig = parseFleetConfig(raw);
  const secrets = {
    privateKey: config.getSecret("privateKey"),
    passphrase: config.getSecret("passphrase"),
    password: config.getSecret("password"),
    privateKeys: config.getSecretObject<Record<string, string>>("privateKeys"),
    healthClientKey: config.getSecret("healthClientKey"),
  };
  const readFile = (path: string) => readFileSync(isAbsolute(path) ? path : join(projectDir, path));
  return new TrustFleet(pulumi.getStack(), fleetArgsFromConfig(fleetConfig, secrets, readFile));
}
