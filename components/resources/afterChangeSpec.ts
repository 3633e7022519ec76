import { z } from "zod";
import { PLATFORM_NAMES } from "../platforms";
import { RESTART_PRESETS } from "./afterChangeScripts";
import { connectionInputSchema } from "./shared";
import { healthCheckSchema } from "./health";

export const AFTER_CHANGE_PROVIDER_VERSION = "1";

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
    delaySeconds: z.number().int().min(0).max(600).default(5),
    /** How long a reboot may take before the host counts as lost. */
    timeoutSeconds: z.number().positive().max(7200).default(600),
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
  .refine((inputs) => inputs.kind !== "restart" || [inputs.preset, inputs.command, inputs.service].filter(Boolean).length === 1, {
    message: 'a service restart needs exactly one of preset ("iis", "nginx", "apache"), service (a name) or command',
    path: ["preset"],
  });

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
