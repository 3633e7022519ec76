import type { StackValidationPolicy } from "@pulumi/policy";
import { declaredRoots, TRUST_STORE, WEB_SERVER_TRUST, type ResourceView } from "./shared";

interface StackResourceView extends ResourceView {
  urn: string;
  parent?: { urn: string };
}

/** One message when any server lacks a trust store with a root, with the fleet's counts. */
export function coverageViolations(resources: readonly StackResourceView[]): string[] {
  const servers = resources.filter((resource) => resource.type === WEB_SERVER_TRUST);
  const stores = resources.filter((resource) => resource.type === TRUST_STORE);
  const parentOf = (store: StackResourceView) => store.parent?.urn ?? store.opts?.parent;
  const uncovered = servers.filter(
    (server) => !stores.some((store) => parentOf(store) === server.urn && declaredRoots(store).length > 0),
  );
  if (uncovered.length === 0) return [];
  const roots = stores.reduce((count, store) => count + declaredRoots(store).length, 0);
  return [
    `${uncovered.length} of ${servers.length} servers have no trust store with a root (${uncovered.map((server) => server.name).join(", ")}); ` +
      `the fleet has ${stores.length} trust stores declaring ${roots} roots in all`,
  ];
}

export const fleetCoverage: StackValidationPolicy = {
  name: "fleet-coverage",
  description: "Every server of the fleet has a trust store declaring at least one root.",
  enforcementLevel: "advisory",
  validateStack: (args, reportViolation) => {
    coverageViolations(args.resources as unknown as StackResourceView[]).forEach((message) => reportViolation(message));
  },
};
