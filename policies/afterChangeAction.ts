import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asRecord, WEB_SERVER_TRUST, type ResourceView } from "./shared";

export function afterChangeViolations(resource: ResourceView): string[] {
  if (resource.type !== WEB_SERVER_TRUST) return [];
  const afterChange = asRecord(resource.props.afterChange);
  const action = afterChange.action ?? "none";
  const problems: string[] = [];
  if (resource.props.platform === "windows" && action === "none") {
    problems.push(
      `${resource.name} is a Windows server whose store can change but has no reboot: SChannel and HTTP.sys may keep the old ` +
        "trust until the host restarts; set afterChange to { action: reboot } (the default when afterChange is not set)",
    );
  }
  if (resource.props.platform === "windows" && action === "restart" && resource.props.healthCheck === undefined) {
    problems.push(
      `${resource.name} restarts a service instead of rebooting, with no health check: restarting W3SVC refreshes neither ` +
        "SChannel (in LSASS) nor HTTP.sys, which decide client-certificate trust; add a healthCheck that proves it, or reboot",
    );
  }
  if (action === "reboot" && resource.props.healthCheck === undefined) {
    problems.push(`${resource.name} reboots after a change but has no health check to prove the fix: add healthCheck (a client-certificate request)`);
  }
  return problems;
}

export const afterChangeAction: ResourceValidationPolicy = {
  name: "after-change-action",
  description: "Windows/IIS servers restart or reboot after a store change, and reboots are followed by a health check.",
  enforcementLevel: "advisory",
  validateResource: (args, reportViolation) => {
    afterChangeViolations(args).forEach((message) => reportViolation(message));
  },
};
