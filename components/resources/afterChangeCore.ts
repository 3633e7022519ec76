import { z } from "zod";
import { PLATFORM_NAMES } from "../platforms";
import { RESTART_PRESETS } from "./afterChangeScripts";
import { connectionInputSchema } from "./shared";
import { healthCheckSchema } from "./health";

export const AFTER_CHANGE_PROVIDER_VERSION = "1";

/** A reboot waits this long before it starts (so the SSH session ends cleanly), and the host this long to return. */
export const REBOOT_DELAY_SECONDS = 5;
export const REBOOT_TIMEOUT_SECONDS = 600;

/** A restart names what it restarts once: the rule both the declaration and the resource inputs hold. */
const ONE_RESTART_TARGET = 'exactly one of preset ("iis", "nginx", "apache"), service (a name) or command';

function hasOneRestartTarget(restart: { preset?: string; service?: string; command?: string }): boolean {
  return [restart.preset, restart.service, restart.command].filter(Boolean).length === 1;
}

/** What runs after a store change, as the stack config and multi-language programs (construct) declare it. */
export const afterChangeSchema = z.discriminatedUnion("action", [
  z.strictObject({ action: z.literal("none") }),
  z.strictObject({
    action: z.literal("reboot"),
    timeoutSeconds: z.number().positive().optional(),
    delaySeconds: z.number().int().min(0).optional(),
    rebootCommand: z.string().min(1).optional(),
    /** Reboot only hosts that already owe a reboot; the others get the test command and health check only. */
    onlyIfPending: z.boolean().optional(),
  }),
  z
    .strictObject({
      action: z.literal("restart"),
      preset: z.enum(RESTART_PRESETS).optional(),
      // Service names are plain words; anything else is refused here even though it would be quoted safely.
      service: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9@._:-]*$/, "a service name is letters, digits and @._:- (e.g. W3SVC, nginx)").optional(),
      command: z.string().min(1).optional(),
    })
    .refine(hasOneRestartTarget, { message: `a restart needs ${ONE_RESTART_TARGET}` }),
]);


/** Inputs shared by HostReboot and ServiceRestart: what to do on the host after its store changed. */
export const afterChangeInputsSchema = z
  .object({
    providerVersion: z.string().default(AFTER_CHANGE_PROVIDER_VERSION),
    /** reboot and restart act on the host; verify only runs the test command and health check. */
    kind: z.enum(["reboot", "restart", "verify"]),
    connection: connectionInputSchema,
    platform: z.enum(PLATFORM_NAMES),
    /** The TrustStore's revision: a new value means the store changed and the action runs. */
    revision: z.string(),
    /** The TrustStore's last apply changed the store: a newly created action runs only then. */
    changed: z.boolean(),
    /** Replaces the platform's reboot command (`shutdown /r /t N`, `systemctl reboot`). */
    rebootCommand: z.string().min(1).optional(),
    delaySeconds: z.number().int().min(0).max(600).default(REBOOT_DELAY_SECONDS),
    /** How long a reboot may take before the host counts as lost. */
    timeoutSeconds: z.number().positive().max(7200).default(REBOOT_TIMEOUT_SECONDS),
    /** Reboot only when the host already owes one (Windows RebootPending, Debian's reboot-required...). */
    onlyIfPending: z.boolean().default(false),
    /** What the store's last observation said about a pending reboot (the TrustStore's observed.pendingReboot). */
    pendingReboot: z.boolean().optional(),
    preset: z.enum(RESTART_PRESETS).optional(),
    command: z.string().min(1).optional(),
    /** A service to restart by name (W3SVC, nginx, httpd...). */
    service: z.string().min(1).optional(),
    /** Runs on the host after the action; a non-zero exit fails the rollout. */
    testCommand: z.string().min(1).optional(),
    healthCheck: healthCheckSchema.optional(),
  })
  .refine((inputs) => inputs.kind !== "restart" || hasOneRestartTarget(inputs), { message: `a service restart needs ${ONE_RESTART_TARGET}`, path: ["preset"] });

export type AfterChangeInputs = z.input<typeof afterChangeInputsSchema>;
export type ValidAfterChangeInputs = z.output<typeof afterChangeInputsSchema>;

export interface AfterChangeOutputs extends ValidAfterChangeInputs {
  /** The action ran in the last create/update. */
  acted: boolean;
  /** A reboot with onlyIfPending found none owed and did not reboot (the checks still ran). */
  rebootSkipped?: boolean;
  bootIdBefore?: string;
  bootIdAfter?: string;
  healthStatus?: number;
  seconds: number;
}

/** Whether an update must act: only a new store revision does; a changed timeout or URL does not. */
export function mustAct(olds: Partial<ValidAfterChangeInputs> | undefined, news: ValidAfterChangeInputs): boolean {
  return olds === undefined ? news.changed : olds.revision !== news.revision;
}
