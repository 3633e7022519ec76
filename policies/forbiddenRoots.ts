import type { ResourceValidationPolicy } from "@pulumi/policy";
import { coveredByComponent, declaredRoots, matches, namedThumbprintsSchema, normalized, serverLabel, TRUST_STORE, WEB_SERVER_TRUST, type NamedThumbprint, type ResourceView } from "./shared";

export interface ForbiddenRootsConfig {
  forbiddenRoots?: NamedThumbprint[];
}

export function forbiddenRootsViolations(resource: ResourceView, config: ForbiddenRootsConfig): string[] {
  if ((resource.type !== WEB_SERVER_TRUST && resource.type !== TRUST_STORE) || coveredByComponent(resource)) return [];
  const declared = [...declaredRoots(resource), ...declaredRoots(resource, "intermediates")];
  const distrusted = declaredRoots(resource, "distrusted");
  return [
    ...normalized(config.forbiddenRoots).flatMap((forbidden) =>
      declared
        .filter((root) => matches(root, forbidden.thumbprint))
        .map((root) => `${serverLabel(resource)} declares the forbidden root "${forbidden.name}" (${root.subject}, SHA-1 ${root.sha1}): remove it from the server's root sets`),
    ),
    ...declared
      .filter((root) => distrusted.some((bad) => bad.sha256 === root.sha256))
      .map((root) => `${serverLabel(resource)} declares ${root.subject} (SHA-1 ${root.sha1}) both as trusted and as distrusted: remove it from one list`),
  ];
}

export const forbiddenRoots: ResourceValidationPolicy = {
  name: "forbidden-roots",
  description: "No web server declares a root from the deny list, or a root it also distrusts.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { forbiddenRoots: namedThumbprintsSchema } },
  validateResource: (args, reportViolation) => {
    forbiddenRootsViolations(args, args.getConfig<ForbiddenRootsConfig>()).forEach((message) => reportViolation(message));
  },
};
