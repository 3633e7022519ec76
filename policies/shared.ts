import { normalizeThumbprint } from "../components/certificates";

// Type tokens of the resources the policies inspect: the library's own constants (a pure module, so the pack
// does not load the Pulumi components themselves).
import {
  TRUST_STORE_TYPE as TRUST_STORE,
  HOST_REBOOT_TYPE as HOST_REBOOT,
  SERVICE_RESTART_TYPE as SERVICE_RESTART,
  HEALTH_CHECK_TYPE as HEALTH_CHECK,
  REMOTE_COMMAND_TYPE as REMOTE_COMMAND,
  WEB_SERVER_TRUST_TYPE as WEB_SERVER_TRUST,
  TRUST_FLEET_TYPE as TRUST_FLEET,
  WAVE_GATE_TYPE as WAVE_GATE,
} from "../components/typeTokens";

export { TRUST_STORE, HOST_REBOOT, SERVICE_RESTART, HEALTH_CHECK, REMOTE_COMMAND, WEB_SERVER_TRUST, TRUST_FLEET, WAVE_GATE };

/** A root as a policy sees it: from a WebServerTrust's declared list or a TrustStore's `roots` map. */
export interface DeclaredRoot {
  name: string;
  sha1: string;
  sha256: string;
  subject: string;
  notAfter?: string;
  kind?: string;
  isCA?: boolean;
  selfSigned?: boolean;
  keyAlgorithm?: string;
  keySize?: number;
  signatureAlgorithm?: string;
  pem?: string;
  /** Where a fetched root came from, and which kind of pin selected it. */
  fetchedFrom?: { url?: unknown; pinned?: unknown; pinnedBy?: unknown };
}

/** The minimum of a resource a policy reads (satisfied by ResourceValidationArgs and PolicyResource). */
export interface ResourceView {
  type: string;
  name: string;
  props: Record<string, unknown>;
  opts?: { parent?: string };
}

/** A root the config names: a thumbprint as people paste it, and a human name for messages. */
export interface NamedThumbprint {
  thumbprint: string;
  name?: string;
}

export const namedThumbprintsSchema = {
  type: "array" as const,
  items: {
    type: "object" as const,
    properties: { thumbprint: { type: "string" as const }, name: { type: "string" as const } },
    required: ["thumbprint"],
  },
};

export function normalized(entries: readonly NamedThumbprint[] | undefined): { thumbprint: string; name: string }[] {
  return (entries ?? []).map((entry) => {
    const thumbprint = normalizeThumbprint(entry.thumbprint);
    return { thumbprint, name: entry.name ?? thumbprint };
  });
}

export function matches(root: Pick<DeclaredRoot, "sha1" | "sha256">, thumbprint: string): boolean {
  return thumbprint.length === 40 ? root.sha1 === thumbprint : root.sha256 === thumbprint;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
}

/** The roots a WebServerTrust or TrustStore declares (`collection`: roots or distrusted). */
export function declaredRoots(resource: ResourceView, collection: "roots" | "distrusted" | "intermediates" = "roots"): DeclaredRoot[] {
  const value = resource.props[collection];
  if (Array.isArray(value)) {
    return value.map((root) => {
      const entry = asRecord(root) as unknown as DeclaredRoot;
      return { ...entry, name: entry.subject };
    });
  }
  // A TrustStore's map is keyed by SHA-256; its subject names the root in messages.
  return Object.values(asRecord(value)).map((root) => {
    const entry = asRecord(root) as unknown as DeclaredRoot;
    return { ...entry, name: entry.subject };
  });
}

/** A TrustStore declared by a WebServerTrust is covered by the component's own check. */
export function coveredByComponent(resource: ResourceView): boolean {
  return resource.type === TRUST_STORE && (resource.opts?.parent ?? "").includes(WEB_SERVER_TRUST);
}

/** What the server is called in messages: its WebServerTrust name or its TrustStore's host. */
export function serverLabel(resource: ResourceView): string {
  const connection = asRecord(resource.props.connection);
  return typeof connection.host === "string" ? `${resource.name} (${connection.host})` : resource.name;
}

export function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

export function stringMap(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(asRecord(value)).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

export { asRecord };
