import { z } from "zod";
import { RESTART_PRESETS } from "./afterChangeScripts";
import { connectionInput, platformInput, providerVersionInput, secretProperties } from "./shared";
import { healthCheckSchema } from "./health";

export const AFTER_CHANGE_PROVIDER_VERSION = "1";

/** A reboot waits this long before it starts (so the SSH session ends cleanly), and the host this long to return. */
export const REBOOT_DELAY_SECONDS = 5;
export const REBOOT_TIMEOUT_SECONDS = 600;

/** A restart names what it restarts once: the rule both the declaration and the resource inputs hold. */
const ONE_RESTART_TARGET = `exactly one of preset (${RESTART_PRESETS.map((preset) => `"${preset}"`).join(", ")}), service (a name) or command`;

function hasOneRestartTarget(restart: { preset?: string; service?: string; command?: string }): boolean {
  return [restart.preset, restart.service, restart.command].filter(Boolean).length === 1;
}

/** What runs after a store change, as the stack config and multi-language programs (construct) declare it. */
export const afterChangeSchema = z
  .discriminatedUnion("action", [
    z.strictObject({ action: z.literal("none").meta({ description: "The action." }) }),
    z.strictObject({
      action: z.literal("reboot"),
      timeoutSeconds: z.number().positive().optional().meta({ description: `reboot: how long the host may take to come back (${REBOOT_TIMEOUT_SECONDS}).` }),
      delaySeconds: z.number().int().min(0).optional().meta({ description: `reboot: delay before it starts (${REBOOT_DELAY_SECONDS}).` }),
      rebootCommand: z.string().min(1).optional().meta({ description: "reboot: replaces the platform's command." }),
      /** Reboot only hosts that already owe a reboot; the others get the test command and health check only. */
      onlyIfPending: z.boolean().optional().meta({ description: "reboot: only on hosts that already owe a reboot." }),
    }),
    z
      .strictObject({
        action: z.literal("restart"),
        preset: z.enum(RESTART_PRESETS).optional().meta({ description: "restart: a preset." }),
        // Service names are plain words; anything else is refused here even though it would be quoted safely.
        service: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9@._:-]*$/, "a service name is letters, digits and @._:- (e.g. W3SVC, nginx)")
          .optional()
          .meta({ description: "restart: a service name." }),
        command: z.string().min(1).optional().meta({ description: "restart: your own command." }),
      })
      .refine(hasOneRestartTarget, { message: `a restart needs ${ONE_RESTART_TARGET}` }),
  ])
  .meta({ description: "What runs after a store change." });

/** Inputs of HostReboot alone, and of ServiceRestart alone; the rest are common to the three after-change resources. */
export const REBOOT_INPUTS = ["rebootCommand", "delaySeconds", "timeoutSeconds", "onlyIfPending", "pendingReboot"] as const;
export const RESTART_INPUTS = ["preset", "service", "command"] as const;

/** Inputs shared by HostReboot and ServiceRestart: what to do on the host after its store changed. */
export const afterChangeInputsSchema = z
  .object({
    /** reboot and restart act on the host; verify only runs the test command and health check. */
    kind: z.enum(["reboot", "restart", "verify"]).meta({ description: "What the resource does." }),
    connection: connectionInput,
    platform: platformInput,
    /** The TrustStore's revision: a new value means the store changed and the action runs. */
    revision: z.string().meta({ description: "The TrustStore's revision: the action runs whenever it changes." }),
    /** The TrustStore's last apply changed the store: a newly created action runs only then. */
    changed: z.boolean().meta({ description: "The TrustStore's last apply changed the store: a new action runs only then." }),
    /** Runs on the host after the action; a non-zero exit fails the rollout. */
    testCommand: z.string().min(1).optional().meta({ description: "Runs on the server after the action; a failure fails the rollout." }),
    healthCheck: healthCheckSchema.optional().meta({ description: "An HTTPS request proving the fix; a secret in the state (it holds a client key).", secret: true }),
    providerVersion: providerVersionInput(AFTER_CHANGE_PROVIDER_VERSION),
    /** Replaces the platform's reboot command (`shutdown /r /t N`, `systemctl reboot`). */
    rebootCommand: z.string().min(1).optional().meta({ description: "Replaces the platform's reboot command." }),
    delaySeconds: z.number().int().min(0).max(600).default(REBOOT_DELAY_SECONDS).meta({ description: "Delay before the reboot ({default})." }),
    /** How long a reboot may take before the host counts as lost. */
    timeoutSeconds: z.number().positive().max(7200).default(REBOOT_TIMEOUT_SECONDS).meta({ description: "How long the reboot may take ({default})." }),
    /** Reboot only when the host already owes one (Windows RebootPending, Debian's reboot-required...). */
    onlyIfPending: z.boolean().default(false).meta({ description: "Reboot only when the host already owes a reboot." }),
    /** What the store's last observation said about a pending reboot (the TrustStore's observed.pendingReboot). */
    pendingReboot: z.boolean().optional().meta({ description: "The store's observation: a reboot is pending." }),
    preset: z.enum(RESTART_PRESETS).optional().meta({ description: "A preset." }),
    /** A service to restart by name (W3SVC, nginx, httpd...). */
    service: z.string().min(1).optional().meta({ description: "A service name." }),
    command: z.string().min(1).optional().meta({ description: "Your own command." }),
  })
  .refine((inputs) => inputs.kind !== "restart" || hasOneRestartTarget(inputs), { message: `a service restart needs ${ONE_RESTART_TARGET}`, path: ["preset"] });

export type AfterChangeInputs = z.input<typeof afterChangeInputsSchema>;
/** The connection (keys, passwords) and the health check (a client key). */
export const AFTER_CHANGE_SECRET_INPUTS = secretProperties(afterChangeInputsSchema.shape);
export type ValidAfterChangeInputs = z.output<typeof afterChangeInputsSchema>;

/** What an after-change resource's state holds beside its inputs. */
export const afterChangeResultSchema = z.object({
  acted: z.boolean().meta({ description: "The action ran in the last create or update." }),
  /** A reboot with onlyIfPending found none owed and did not reboot (the checks still ran). */
  rebootSkipped: z.boolean().optional().meta({ description: "onlyIfPending found no reboot owed, so none ran." }),
  bootIdBefore: z.string().optional().meta({ description: "Boot id before a reboot." }),
  bootIdAfter: z.string().optional().meta({ description: "Boot id after a reboot." }),
  healthStatus: z.number().int().optional().meta({ description: "The health check's HTTP status." }),
  seconds: z.number().meta({ description: "How long the action took." }),
});

export type AfterChangeOutputs = ValidAfterChangeInputs & z.infer<typeof afterChangeResultSchema>;

/** Whether an update must act: only a new store revision does; a changed timeout or URL does not. */
export function mustAct(olds: Partial<ValidAfterChangeInputs> | undefined, news: ValidAfterChangeInputs): boolean {
  return olds === undefined ? news.changed : olds.revision !== news.revision;
}
