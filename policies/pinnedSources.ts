import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asRecord, coveredByComponent, declaredRoots, serverLabel, TRUST_STORE, WEB_SERVER_TRUST, type ResourceView } from "./shared";

const COLLECTIONS = ["roots", "intermediates", "distrusted"] as const;

/**
 * Roots fetched from a URL, certsrv or a directory without a pinned thumbprint: whoever controls the source, or
 * the path to it, would decide what the fleet trusts. The stack config cannot declare one; a program can, only
 * with `allowUnpinned`, and this policy is where that choice is stopped, on a WebServerTrust or on a TrustStore
 * given such roots directly.
 */
export function unpinnedSourceViolations(resource: ResourceView): string[] {
  if (resource.type !== WEB_SERVER_TRUST && resource.type !== TRUST_STORE) return [];
  if (coveredByComponent(resource)) return [];
  return COLLECTIONS.flatMap((collection) =>
    declaredRoots(resource, collection).flatMap((root) => {
      const fetchedFrom = asRecord(root.fetchedFrom);
      if (fetchedFrom.pinned !== false) return [];
      return [
        `${serverLabel(resource)}: ${collection} entry ${root.subject} (SHA-256 ${root.sha256}) was fetched from ${String(fetchedFrom.url)} ` +
          "without a pinned thumbprint; verify it out of band and pin it (thumbprints)",
      ];
    }),
  );
}

export const pinnedSources: ResourceValidationPolicy = {
  name: "pinned-sources",
  description: "Every root fetched from a URL or AD CS web enrollment was selected by a pinned thumbprint.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    unpinnedSourceViolations(args).forEach((message) => reportViolation(message));
  },
};
