import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { declaredIdentities } from "../../components/WebServerTrust";
import { TestPki } from "./pki";

/** Thrown by the fake args' notApplicable, as the policy runtime does. */
export class NotApplicable extends Error {}

/** ResourceValidationArgs as the policy runtime builds them, by hand. */
export function resourceArgs(type: string, name: string, props: Record<string, unknown>, config: object = {}, parent?: string): ResourceValidationArgs {
  return {
    type,
    name,
    props,
    urn: `urn:pulumi:prod::trusted-roots::${type}::${name}`,
    opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [], parent },
    stackTags: new Map([["env", "prod"]]),
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
    isType: () => false,
    asType: () => undefined,
  } as unknown as ResourceValidationArgs;
}

/** Runs a resource policy: its violations, or "n/a: reason". */
export async function validate(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<string[] | string> {
  const violations: string[] = [];
  try {
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
    for (const validation of validations) await validation(args, (message) => violations.push(message));
  } catch (error) {
    if (error instanceof NotApplicable) return `n/a: ${error.message}`;
    throw error;
  }
  return violations;
}

export interface PolicyFixtures {
  contoso: Certificate;
  fabrikam: Certificate;
  weak: Certificate;
  md5: Certificate;
  shortLived: Certificate;
  intermediate: Certificate;
}

let fixtures: PolicyFixtures | undefined;

/** Roots made once per test run with openssl: good ones and each kind of bad one. */
export function policyFixtures(): PolicyFixtures {
  if (fixtures) return fixtures;
  const pki = new TestPki();
  const contosoRoot = pki.root("contoso", "/CN=Contoso Root CA G2");
  const read = (pem: string) => parseCertificates(pem)[0];
  fixtures = {
    contoso: read(contosoRoot.pem),
    fabrikam: read(pki.root("fabrikam", "/CN=Fabrikam Root", { key: "ec256" }).pem),
    weak: read(pki.root("weak", "/CN=Weak Root", { key: "rsa1024" }).pem),
    md5: read(pki.root("md5", "/CN=MD5 Root", { digest: "md5" }).pem),
    shortLived: read(pki.root("short", "/CN=Short Root", { key: "ec256", days: 10 }).pem),
    intermediate: read(pki.issue("issuing", "/CN=Issuing", contosoRoot, { ca: true }).pem),
  };
  return fixtures;
}


/** A WebServerTrust's props. */
export function serverProps(roots: Certificate[], extra: Record<string, unknown> = {}) {
  return {
    platform: "debian",
    roots: declaredIdentities(roots),
    intermediates: [],
    distrusted: [],
    groups: ["web"],
    tags: { site: "east" },
    afterChange: { action: "restart", preset: "nginx" },
    ...extra,
  };
}
