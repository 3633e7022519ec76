import * as pulumi from "@pulumi/pulumi";
import type { PlatformName } from "../platforms";
import type { RestartPreset } from "./afterChangeScripts";
import { AFTER_CHANGE_PROVIDER_VERSION, REBOOT_DELAY_SECONDS, REBOOT_TIMEOUT_SECONDS } from "./afterChangeCore";
import type { HealthCheckInput } from "./health";
import { pluginResourceOptions, type ConnectionArgs } from "./shared";
import { HEALTH_CHECK_TYPE, HOST_REBOOT_TYPE, RESOURCE_NAMES, SERVICE_RESTART_TYPE } from "../typeTokens";

export { HOST_REBOOT_TYPE, SERVICE_RESTART_TYPE, HEALTH_CHECK_TYPE } from "../typeTokens";

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
  /** Reboot only when `pendingReboot` says the host already owes one. */
  onlyIfPending?: pulumi.Input<boolean>;
  /** The store's observation: a reboot is pending (the TrustStore's `observed.pendingReboot`). */
  pendingReboot?: pulumi.Input<boolean>;
  delaySeconds?: pulumi.Input<number>;
  timeoutSeconds?: pulumi.Input<number>;
}

export interface ServiceRestartArgs extends AfterChangeCommonArgs {
  preset?: pulumi.Input<RestartPreset>;
  service?: pulumi.Input<string>;
  command?: pulumi.Input<string>;
}

const OUTPUTS = { acted: undefined, bootIdBefore: undefined, bootIdAfter: undefined, healthStatus: undefined, seconds: undefined };

const SECRET_OUTPUTS = ["connection", "healthCheck"];

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
export class HostReboot extends pulumi.CustomResource {
  declare readonly acted: pulumi.Output<boolean>;
  declare readonly bootIdAfter: pulumi.Output<string | undefined>;
  declare readonly healthStatus: pulumi.Output<number | undefined>;

  constructor(name: string, args: HostRebootArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      HOST_REBOOT_TYPE,
      name,
      { providerVersion: AFTER_CHANGE_PROVIDER_VERSION, kind: "reboot", delaySeconds: REBOOT_DELAY_SECONDS, timeoutSeconds: REBOOT_TIMEOUT_SECONDS, ...definedOnly(withSecrets(args)), ...OUTPUTS },
      pluginResourceOptions(opts, RESOURCE_NAMES.hostReboot, SECRET_OUTPUTS),
    );
  }
}

/** Restarts or reloads the web service after the store changed (IIS W3SVC, nginx, Apache, or a command). */
export class ServiceRestart extends pulumi.CustomResource {
  declare readonly acted: pulumi.Output<boolean>;
  declare readonly healthStatus: pulumi.Output<number | undefined>;

  constructor(name: string, args: ServiceRestartArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      SERVICE_RESTART_TYPE,
      name,
      { providerVersion: AFTER_CHANGE_PROVIDER_VERSION, kind: "restart", ...definedOnly(withSecrets(args)), ...OUTPUTS },
      pluginResourceOptions(opts, RESOURCE_NAMES.serviceRestart, SECRET_OUTPUTS),
    );
  }
}

/** Runs the test command and health check after the store changed, on servers that need no restart. */
export class HealthCheck extends pulumi.CustomResource {
  declare readonly acted: pulumi.Output<boolean>;
  declare readonly healthStatus: pulumi.Output<number | undefined>;

  constructor(name: string, args: AfterChangeCommonArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      HEALTH_CHECK_TYPE,
      name,
      { providerVersion: AFTER_CHANGE_PROVIDER_VERSION, kind: "verify", ...definedOnly(withSecrets(args)), ...OUTPUTS },
      pluginResourceOptions(opts, RESOURCE_NAMES.healthCheck, SECRET_OUTPUTS),
    );
  }
}

function definedOnly<T extends object>(args: T): Partial<T> {
  return Object.fromEntries(Object.entries(args).filter(([, value]) => value !== undefined)) as Partial<T>;
}
