import type { ResourceValidationPolicy } from "@pulumi/policy";
import { parseCertificates } from "../components/certificates";
import { coveredByComponent, declaredRoots, serverLabel, TRUST_STORE, WEB_SERVER_TRUST, type DeclaredRoot, type ResourceView } from "./shared";

export interface RootHygieneConfig {
  minRsaBits?: number;
  minEcBits?: number;
  expiryWarningDays?: number;
}

const DAY = 24 * 60 * 60 * 1000;

/** A root with every field hygiene needs: TrustStores carry PEM only, so it is parsed here. */
function complete(root: DeclaredRoot): DeclaredRoot {
  if (root.keySize !== undefined || !root.pem) return root;
  try {
    const [certificate] = parseCertificates(root.pem, { name: root.name });
    return { ...root, ...certificate, name: root.name };
  } catch {
    return root;
  }
}

function rootsOf(resource: ResourceView): DeclaredRoot[] | undefined {
  if ((resource.type !== WEB_SERVER_TRUST && resource.type !== TRUST_STORE) || coveredByComponent(resource)) return undefined;
  if (resource.type === TRUST_STORE && (resource.props.store ?? "Root") !== "Root") return undefined;
  return declaredRoots(resource).map(complete);
}

/** Problems that must block a deploy: expired, not a self-signed CA, weak key, MD5. */
export function hygieneViolations(resource: ResourceView, config: RootHygieneConfig, now = new Date()): string[] {
  const roots = rootsOf(resource);
  if (!roots) return [];
  const minRsa = config.minRsaBits ?? 2048;
  const minEc = config.minEcBits ?? 256;
  const label = serverLabel(resource);
  return roots.flatMap((root) => {
    const problems: string[] = [];
    const name = `${root.subject} (SHA-1 ${root.sha1})`;
    if (root.notAfter && Date.parse(root.notAfter) < now.getTime()) problems.push(`${label}: root ${name} expired on ${root.notAfter}`);
    if (root.isCA === false) problems.push(`${label}: ${name} is not a CA certificate and cannot be a trusted root`);
    else if (root.selfSigned === false) problems.push(`${label}: ${name} is not self-signed: an intermediate does not belong in a Root store`);
    if ((root.keyAlgorithm === "rsa" || root.keyAlgorithm === "rsa-pss") && (root.keySize ?? 0) < minRsa) {
      problems.push(`${label}: ${name} has a ${root.keySize}-bit RSA key, under the ${minRsa}-bit minimum`);
    }
    if (root.keyAlgorithm === "ec" && (root.keySize ?? 0) < minEc) problems.push(`${label}: ${name} has a ${root.keySize}-bit EC key, under the ${minEc}-bit minimum`);
    if (/md5/i.test(root.signatureAlgorithm ?? "")) problems.push(`${label}: ${name} is signed with MD5 (${root.signatureAlgorithm})`);
    return problems;
  });
}

/** Problems worth a warning: expiring soon, SHA-1 signature, the same root declared twice. */
export function hygieneWarnings(resource: ResourceView, config: RootHygieneConfig, now = new Date()): string[] {
  const roots = rootsOf(resource);
  if (!roots) return [];
  const days = config.expiryWarningDays ?? 30;
  const label = serverLabel(resource);
  const seen = new Set<string>();
  return roots.flatMap((root) => {
    const warnings: string[] = [];
    const name = `${root.subject} (SHA-1 ${root.sha1})`;
    const expiry = root.notAfter ? Date.parse(root.notAfter) : NaN;
    if (expiry >= now.getTime() && expiry < now.getTime() + days * DAY) {
      warnings.push(`${label}: root ${name} expires on ${root.notAfter}, within ${days} days: plan its replacement`);
    }
    if (/sha1With|ecdsa-with-SHA1$/i.test(root.signatureAlgorithm ?? "")) warnings.push(`${label}: ${name} is signed with SHA-1 (${root.signatureAlgorithm})`);
    if (seen.has(root.sha256)) warnings.push(`${label}: ${name} is declared more than once`);
    seen.add(root.sha256);
    return warnings;
  });
}

const configSchema = {
  properties: {
    minRsaBits: { type: "integer" as const, default: 2048 },
    minEcBits: { type: "integer" as const, default: 256 },
    expiryWarningDays: { type: "integer" as const, default: 30 },
  },
};

export const rootHygiene: ResourceValidationPolicy = {
  name: "root-hygiene",
  description: "Declared roots are unexpired self-signed CAs with strong keys and no MD5 signature.",
  enforcementLevel: "mandatory",
  configSchema,
  validateResource: (args, reportViolation) => {
    hygieneViolations(args, args.getConfig<RootHygieneConfig>()).forEach((message) => reportViolation(message));
  },
};

export const rootHygieneWarnings: ResourceValidationPolicy = {
  name: "root-hygiene-warnings",
  description: "Declared roots that expire soon, are SHA-1 signed or declared twice.",
  enforcementLevel: "advisory",
  configSchema,
  validateResource: (args, reportViolation) => {
    hygieneWarnings(args, args.getConfig<RootHygieneConfig>()).forEach((message) => reportViolation(message));
  },
};
