import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse } from "yaml";
import { secretsFromEnvironment } from "../config/environment";
import { loadFleetArgs, parseFleetConfig } from "../config/load";
import { readStackConfig } from "../config/stackFile";
import type { FleetServer } from "../TrustFleet";

/** A command-line mistake: printed as is, exit code 1. */
export class UsageError extends Error {}

/** What `read` takes from the environment; its errors (an unreadable key file) are usage errors. */
export function readEnvironment<T>(read: (env: NodeJS.ProcessEnv) => T, env: NodeJS.ProcessEnv): T {
  try {
    return read(env);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The servers to scan, from `--stack NAME` (Pulumi.NAME.yaml in the project directory) or `--inventory FILE`. */
export async function loadServers(options: { stack?: string; inventory?: string; projectDir?: string }, env: NodeJS.ProcessEnv): Promise<readonly FleetServer[]> {
  if (Boolean(options.stack) === Boolean(options.inventory)) throw new UsageError("give exactly one of --stack NAME or --inventory FILE");
  let file: string;
  if (options.stack) {
    file = join(resolve(options.projectDir ?? "."), `Pulumi.${options.stack}.yaml`);
    if (!existsSync(file)) throw new UsageError(`--stack ${options.stack}: ${file} does not exist (run from the project directory or give --project-dir)`);
  } else {
    file = resolve(options.inventory!);
    if (!existsSync(file)) throw new UsageError(`--inventory: ${file} does not exist`);
  }
  const text = readFileSync(file, "utf8");
  let values: unknown;
  if (options.stack) {
    values = readStackConfig(text, file).values;
  } else {
    try {
      const document = parse(text) as Record<string, unknown> | null;
      // An inventory is the fleet config itself, or a Pulumi stack file holding it.
      values = document && "config" in document ? readStackConfig(text, file).values : document;
    } catch (error) {
      throw new UsageError(`${file}: neither YAML nor JSON: ${(error as Error).message}`);
    }
  }
  const baseDir = options.stack ? resolve(options.projectDir ?? ".") : dirname(file);
  const readFile = (path: string) => readFileSync(isAbsolute(path) ? path : join(baseDir, path));
  const { args } = await loadFleetArgs(parseFleetConfig(values), readEnvironment(secretsFromEnvironment, env), readFile, { healthChecks: false });
  return args.servers;
}
