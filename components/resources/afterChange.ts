import * as pulumi from "@pulumi/pulumi";
import type { PlatformName } from "../platforms";
import type { RestartPreset } from "./afterChangeScripts";
import { AFTER_CHANGE_PROVIDER_VERSION, AFTER_CHANGE_SECRET_INPUTS, REBOOT_DELAY_SECONDS, REBOOT_TIMEOUT_SECONDS } from "./afterChangeCore";
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

/**
 * The arguments with the inputs the schema marks secret (the connection's keys and passwords, the health check's
 * client key) wrapped as secrets: encrypted in the state's inputs too, whatever the caller passed.
 */
function withSecrets<T extends AfterChangeCommonArgs>(args: T): T {
  const given = args as unknown as Record<string, unknown>;
  const secrets = AFTER_CHANGE_SECRET_INPUTS.filter((key) => given[key] !== undefined).map((key) => [key, pulumi.secret(given[key])]);
  return { ...args, ...Object.fromEntries(secrets) };
}

const AFTER_CHANGE_TYPES = { hostReboot: HOST_REBOOT_TYPE, serviceRestart: SERVICE_RESTART_TYPE, healthCheck: HEALTH_CHECK_TYPE } as const;

/** The three after-change resources: one plugin implementation, told apart by type and `kind`. */
abstract class AfterChangeResource extends pulumi.CustomResource {
  declare readonly acted: pulumi.Output<boolean>;
  declare readonly healthStatus: pulumi.Output<number | undefined>;

  protected constructor(
    resourceName: keyof typeof AFTER_CHANGE_TYPES,
    name: string,
    fixed: { kind: "reboot" | "restart" | "verify" } & Record<string, unknown>,
    args: AfterChangeCommonArgs,
    opts: pulumi.CustomResourceOptions,
  ) {
    super(
      AFTER_CHANGE_TYPES[resourceName],
      name,
      { providerVersion: AFTER_CHANGE_PROVIDER_VERSION, ...fixed, ...definedOnly(withSecrets(args)), ...OUTPUTS },
      pluginResourceOptions(opts, RESOURCE_NAMES[resourceName], AFTER_CHANGE_SECRET_INPUTS),
    );
  }
}

/**
 * Reboots a server after its trust store changed, waits for a new boot id (within `timeoutSeconds`), then runs
 * the test command and the health check. The classic fix for IIS after re-importing roots.
 */
export class HostReboot extends AfterChangeResource {
  declare readonly bootIdAfter: pulumi.Output<string | undefined>;

  constructor(name: string, args: HostRebootArgs, opts: pulumi.CustomResourceOptions = {}) {
    super("hostReboot", name, { kind: "reboot", delaySeconds: REBOOT_DELAY_SECONDS, timeoutSeconds: REBOOT_TIMEOUT_SECONDS }, args, opts);
  }
}

/** Restarts or reloads the web service after the store changed (IIS W3SVC, nginx, Apache, or a command). */
export class ServiceRestart extends AfterChangeResource {
  constructor(name: string, args: ServiceRestartArgs, opts: pulumi.CustomResourceOptions = {}) {
    super("serviceRestart", name, { kind: "restart" }, args, opts);
  }
}

/** Runs the test command and health check after the store changed, on servers that need no restart. */
export class HealthCheck extends AfterChangeResource {
  constructor(name: string, args: AfterChangeCommonArgs, opts: pulumi.CustomResourceOptions = {}) {
    super("healthCheck", name, { kind: "verify" }, args, opts);
  }
}

function definedOnly<T extends object>(args: T): Partial<T> {
  return Object.fromEntries(Object.entries(args).filter(([, value]) => value !== undefined)) as Partial<T>;
}
