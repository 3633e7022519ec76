import type { ResourceValidationPolicy } from "@pulumi/policy";
import { waves, type Rollout } from "../components/rollout";
import { asRecord, HOST_REBOOT, TRUST_FLEET, type ResourceView } from "./shared";

export interface RolloutSafetyConfig {
  maxWavePercent?: number;
}

export function rolloutViolations(resource: ResourceView, config: RolloutSafetyConfig): string[] {
  if (resource.type === HOST_REBOOT) {
    const timeout = resource.props.timeoutSeconds;
    return typeof timeout === "number" && timeout > 0
      ? []
      : [`${resource.name} reboots without a timeout: set timeoutSeconds so a host that never returns fails the rollout`];
  }
  if (resource.type !== TRUST_FLEET) return [];
  const count = typeof resource.props.serverCount === "number" ? resource.props.serverCount : 0;
  const percent = config.maxWavePercent ?? 25;
  // One server per wave is always allowed: a fleet cannot roll out more carefully than that.
  const allowed = Math.max(1, Math.floor((count * percent) / 100));
  return waves(count, asRecord(resource.props.rollout) as Rollout)
    .map((wave, index) => ({ size: wave.length, index }))
    .filter((wave) => wave.size > allowed)
    .map(
      (wave) =>
        `${resource.name}: wave ${wave.index + 1} holds ${wave.size} of ${count} servers, more than ${percent}% (${allowed}); ` +
        "lower trusted-roots:rollout.batchSize or percent",
    );
}

export const rolloutSafety: ResourceValidationPolicy = {
  name: "rollout-safety",
  description: "No rollout wave is larger than a set share of the fleet, and every reboot has a timeout.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { maxWavePercent: { type: "number", default: 25 } } },
  validateResource: (args, reportViolation) => {
    rolloutViolations(args, args.getConfig<RolloutSafetyConfig>()).forEach((message) => reportViolation(message));
  },
};
