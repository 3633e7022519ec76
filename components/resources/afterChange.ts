import * as pulumi from "@pulumi/pulumi";
import { resolve } from "node:path";
import type { PlatformName } from "../platforms";
import type { RestartPreset } from "./afterChangeScripts";
import { AFTER_CHANGE_PROVIDER_VERSION } from "./afterChangeSpec";
import type { HealthCheckInput } from "./health";
import type { ConnectionArgs } from "./shared";

import { DYNAMIC_MODULE, RESOURCE_NAMES } from "../typeTokens";

export { HOST_REBOOT_TYPE, SERVICE_RESTART_TYPE, HEALTH_CHECK_TYPE } from "../typeTokens";

// Serialized into the state: plain values only; the implementation is loaded by path (see trustStore.ts).
const IMPLEMENTATION = resolve(__dirname, "afterChangeProvider");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- by path, at run time, in the provider process
const implementation = (): typeof import("./afterChangeProvider") => require(IMPLEMENTATION);

const afterChangeProvider: pulumi.dynamic.ResourceProvider = {
  check: (olds, news) => implementation().check(olds, news),
  diff: (id, olds, news) => implementation().diff(id, olds, news),
  create: (inputs) => implementation().create(inputs),
  update: (id, olds, news) => implementation().update(id, olds, news),
  // Nothing to undo on the host, and nothing to read back: a reboot or restart has no lasting state.
  read: async (id, props) => ({ id, props }),
  delete: async () => undefined,
};

interface AfterChangeCommonArgs {
  connection: pulumi.Input<ConnectionArgs>;
  platform: pulumi.Input<PlatformName>;
  /** The TrustStore's `revision`: the action runs whenever it changes. */
  revision: pulumi.Input<string>;
  /** The TrustStore's `changed`: on first deploy the action runs only if the store was changed. */
  changed: pulumi.Input<boolean>;
  testCommand?: pulumi.Input<string>;
  healthCheck?: pulumi.Input<HealthCheckInput>;
}

export interface HostRebootArgs extends AfterChangeCommonArgs {
  rebootCommand?: pulumi.Input<string>;
  delaySeconds?: pulumi.Input<number>;
  timeoutSeconds?: pulumi.Input<number>;
}

export interface ServiceRestartArgs extends AfterChangeCommonArgs {
  preset?: pulumi.Input<RestartPreset>;
  service?: pulumi.Input<string>;
  command?: pulumi.Input<string>;
}

const OUTPUTS = { acted: undefined, bootIdBefore: undefined, bootIdAfter: undefined, healthStatus: undefined, seconds: undefined };

function secretOptions(opts: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
  return { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "connection", "healthCheck"] };
}

/**
 * The arguments with the connection (private key, password) and the health check (client key) as secret
 * inputs: encrypted in the state's inputs too, whatever the caller passed.
 */
function withSecrets<T extends AfterChangeCommonArgs>(args: T): T {
  return { ...args, connection: pulumi.secret(args.connection), ...(args.healthCheck === undefined ? {} : { healthCheck: pulumi.secret(args.healthCheck) }) };
}

/**
 * Reboots a server after its trust store changed, waits for a new boot id (within `timeoutSeconds`), then runs
 * the test command and the health check. The classic fix for IIS after re-importing roots.
 */
export class HostReboot extends pulumi.dynamic.Resource {
  declare readonly acted: pulumi.Output<boolean>;
  declare readonly bootIdAfter: pulumi.Output<string | undefined>;
  declare readonly healthStatus: pulumi.Output<number | undefined>;

  constructor(name: string, args: HostRebootArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      afterChangeProvider,
      name,
      { providerVersion: AFTER_CHANGE_PROVIDER_VERSION, kind: "reboot", delaySeconds: 5, timeoutSeconds: 600, ...definedOnly(withSecrets(args)), ...OUTPUTS },
      secretOptions(opts),
      DYNAMIC_MODULE,
      RESOURCE_NAMES.hostReboot,
    );
  }
}

/** Restarts or reloads the web service after the store changed (IIS W3SVC, nginx, Apache, or a command). */
export class ServiceRestart extends pulumi.dynamic.Resource {
  declare readonly acted: pulumi.Output<boolean>;
  declare readonly healthStatus: pulumi.Output<number | undefined>;

  constructor(name: string, args: ServiceRestartArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      afterChangeProvider,
      name,
      { providerVersion: AFTER_CHANGE_PROVIDER_VERSION, kind: "restart", ...definedOnly(withSecrets(args)), ...OUTPUTS },
      secretOptions(opts),
      DYNAMIC_MODULE,
      RESOURCE_NAMES.serviceRestart,
    );
  }
}

/** Runs the test command and health check after the store changed, on servers that need no restart. */
export class HealthCheck extends pulumi.dynamic.Resource {
  declare readonly acted: pulumi.Output<boolean>;
  declare readonly healthStatus: pulumi.Output<number | undefined>;

  constructor(name: string, args: AfterChangeCommonArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      afterChangeProvider,
      name,
      { providerVersion: AFTER_CHANGE_PROVIDER_VERSION, kind: "verify", ...definedOnly(withSecrets(args)), ...OUTPUTS },
      secretOptions(opts),
      DYNAMIC_MODULE,
      RESOURCE_NAMES.healthCheck,
    );
  }
}

function definedOnly<T extends object>(args: T): Partial<T> {
  return Object.fromEntries(Object.entries(args).filter(([, value]) => value !== undefined)) as Partial<T>;
}
