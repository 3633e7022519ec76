import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
  asRecord, coveredByComponent, declaredRoots, matches, namedThumbprintsSchema, normalized, serverLabel, stringList, stringMap,
  TRUST_STORE, WEB_SERVER_TRUST, type NamedThumbprint, type ResourceView,
} from "./shared";

export interface RequiredRootsConfig {
  requiredRoots?: NamedThumbprint[];
  /** Only servers in one of these groups (WebServerTrust `groups`). */
  groups?: string[];
  /** Only servers with all these tags. */
  tags?: Record<string, string>;
}

/** Violations for one resource, or a reason it is not applicable. Pure. */
export function requiredRootsViolations(resource: ResourceView, config: RequiredRootsConfig): string[] | { notApplicable: string } {
  if (resource.type !== WEB_SERVER_TRUST && resource.type !== TRUST_STORE) return { notApplicable: "not a trust store" };
  if (coveredByComponent(resource)) return { notApplicable: "checked on its WebServerTrust" };
  // A Java keystore is a root store of its own: the JVM trusts nothing else (a WebServerTrust's get its roots).
  if (resource.type === TRUST_STORE && !["Root", "Java"].includes(String(resource.props.store ?? "Root"))) return { notApplicable: "not a root store or Java keystore" };
  const groups = stringList(resource.props.groups);
  if (config.groups?.length && !config.groups.some((group) => groups.includes(group))) {
    return { notApplicable: `${resource.name} is in none of the groups ${config.groups.join(", ")}` };
  }
  const tags = stringMap(resource.props.tags);
  const unmatched = Object.entries(config.tags ?? {}).filter(([key, value]) => tags[key] !== value);
  if (unmatched.length > 0) return { notApplicable: `${resource.name} lacks the tags ${unmatched.map(([key, value]) => `${key}=${value}`).join(", ")}` };
  const declared = declaredRoots(resource);
  const observed = asRecord(resource.props.observed);
  const live = [...(Array.isArray(observed.managed) ? observed.managed : []), ...(Array.isArray(observed.foreign) ? observed.foreign : [])] as { sha1: string; sha256: string }[];
  const where =
    resource.type === WEB_SERVER_TRUST
      ? "add its root set to one of the server's groups (trusted-roots:groups.<group>.roots) or to the server's roots"
      : "add it to this TrustStore's roots";
  return normalized(config.requiredRoots)
    .filter((required) => !declared.some((root) => matches(root, required.thumbprint)))
    .map((required) => {
      const liveNote = resource.props.observed === undefined
        ? ""
        : live.some((root) => matches(root, required.thumbprint))
          ? "; the host has it now, but nothing keeps it there"
          : "; the host's store lacks it too, and this deploy will not add it";
      return `${serverLabel(resource)} does not declare the required root "${required.name}" (${required.thumbprint})${liveNote}: ${where}`;
    });
}

export const requiredRoots: ResourceValidationPolicy = {
  name: "required-roots",
  description: "Every web server declares each required root CA.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      requiredRoots: namedThumbprintsSchema,
      groups: { type: "array", items: { type: "string" } },
      tags: { type: "object", additionalProperties: { type: "string" } },
    },
  },
  validateResource: (args, reportViolation) => {
    const result = requiredRootsViolations(args, args.getConfig<RequiredRootsConfig>());
    if (!Array.isArray(result)) {
      if (args.type === WEB_SERVER_TRUST || args.type === TRUST_STORE) args.notApplicable(result.notApplicable);
      return;
    }
    result.forEach((message) => reportViolation(message));
  },
};
