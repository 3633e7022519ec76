import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
  asRecord, coveredByComponent, declaredRoots, matches, namedThumbprintsSchema, normalized, serverLabel, TRUST_STORE, WEB_SERVER_TRUST,
  type NamedThumbprint, type ResourceView,
} from "./shared";

export interface Sha256PinsConfig {
  /** The same list as required-roots': a SHA-1 thumbprint there is named with the SHA-256 that could replace it. */
  requiredRoots?: NamedThumbprint[];
}

const COLLECTIONS = ["roots", "intermediates", "distrusted"] as const;

/**
 * Where a SHA-1 pin selects a root while a SHA-256 one could: a fetched root pinned by SHA-1, or a required root
 * named by SHA-1. SHA-1 pins stay accepted (certmgr and many runbooks show SHA-1 only); each warning gives the
 * SHA-256 to pin instead, read from the declared certificate. Pure.
 */
export function sha1PinWarnings(resource: ResourceView, config: Sha256PinsConfig): string[] {
  if (resource.type !== WEB_SERVER_TRUST && resource.type !== TRUST_STORE) return [];
  if (coveredByComponent(resource)) return [];
  const fetched = COLLECTIONS.flatMap((collection) =>
    declaredRoots(resource, collection)
      .filter((root) => asRecord(root.fetchedFrom).pinnedBy === "SHA-1")
      .map(
        (root) =>
          `${serverLabel(resource)}: ${collection} entry ${root.subject} was fetched from ${String(asRecord(root.fetchedFrom).url)} and selected by its SHA-1 ` +
          `thumbprint ${root.sha1}; pin its SHA-256 instead: ${root.sha256}`,
      ),
  );
  const declared = declaredRoots(resource);
  const required = normalized(config.requiredRoots)
    .filter((entry) => entry.thumbprint.length === 40)
    .flatMap((entry) => {
      const root = declared.find((candidate) => matches(candidate, entry.thumbprint));
      return root ? [`${serverLabel(resource)}: the required root "${entry.name}" is named by its SHA-1 thumbprint ${entry.thumbprint}; name it by its SHA-256 instead: ${root.sha256}`] : [];
    });
  return [...fetched, ...required];
}

export const sha256Pins: ResourceValidationPolicy = {
  name: "sha256-pins",
  description: "Fetched and required roots are pinned by SHA-256 where a SHA-1 thumbprint is used.",
  enforcementLevel: "advisory",
  configSchema: { properties: { requiredRoots: namedThumbprintsSchema } },
  validateResource: (args, reportViolation) => {
    sha1PinWarnings(args, args.getConfig<Sha256PinsConfig>()).forEach((message) => reportViolation(message));
  },
};
