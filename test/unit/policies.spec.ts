import { strict as assert } from "node:assert";
import type { ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { toRootInputs } from "../../components/resources/trustStoreSpec";
import { afterChangeAction } from "../../policies/afterChangeAction";
import { fleetCoverage } from "../../policies/fleetCoverage";
import { forbiddenRoots } from "../../policies/forbiddenRoots";
import { pinnedHostKeys } from "../../policies/pinnedHostKeys";
import { requiredRoots } from "../../policies/requiredRoots";
import { rootHygiene, rootHygieneWarnings } from "../../policies/rootHygiene";
import { rolloutSafety } from "../../policies/rolloutSafety";
import { HOST_REBOOT, REMOTE_COMMAND, TRUST_FLEET, TRUST_STORE, WEB_SERVER_TRUST } from "../../policies/shared";
import { TestPki } from "../support/pki";

class NotApplicable extends Error {}

/** ResourceValidationArgs as the policy runtime builds them, by hand. */
function resourceArgs(type: string, name: string, props: Record<string, unknown>, config: object = {}, parent?: string): ResourceValidationArgs {
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
async function validate(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<string[] | string> {
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

describe("policies", function () {
  this.timeout(30_000);
  const pki = new TestPki();
  let contoso: Certificate, fabrikam: Certificate, weak: Certificate, md5: Certificate, shortLived: Certificate, intermediate: Certificate;
  const hostKey = "SHA256:" + "A".repeat(43);

  before(() => {
    const contosoRoot = pki.root("contoso", "/CN=Contoso Root CA G2");
    [contoso] = parseCertificates(contosoRoot.pem);
    [fabrikam] = parseCertificates(pki.root("fabrikam", "/CN=Fabrikam Root", { key: "ec256" }).pem);
    [weak] = parseCertificates(pki.root("weak", "/CN=Weak Root", { key: "rsa1024" }).pem);
    [md5] = parseCertificates(pki.root("md5", "/CN=MD5 Root", { digest: "md5" }).pem);
    [shortLived] = parseCertificates(pki.root("short", "/CN=Short Root", { key: "ec256", days: 10 }).pem);
    [intermediate] = parseCertificates(pki.issue("issuing", "/CN=Issuing", contosoRoot, { ca: true }).pem);
  });

  const identity = (certificate: Certificate) => {
    const { sha1, sha256, subject, notAfter, kind, isCA, selfSigned, keyAlgorithm, keySize, signatureAlgorithm } = certificate;
    return { sha1, sha256, subject, notAfter, kind, isCA, selfSigned, keyAlgorithm, keySize, signatureAlgorithm };
  };
  const server = (roots: Certificate[], extra: Record<string, unknown> = {}) => ({
    platform: "debian",
    roots: roots.map(identity),
    intermediates: [],
    distrusted: [],
    groups: ["web"],
    tags: { site: "east" },
    afterChange: { action: "restart", preset: "nginx" },
    ...extra,
  });

  describe("required-roots", () => {
    let config: { requiredRoots: { thumbprint: string; name?: string }[] };
    before(() => {
      config = { requiredRoots: [{ thumbprint: `\u200e${contoso.sha1.toLowerCase().replace(/(..)/g, "$1 ")}`, name: "Contoso Root CA G2" }] };
    });

    it("passes a server that declares the root (thumbprint pasted from certmgr)", async () => {
      assert.deepEqual(await validate(requiredRoots, resourceArgs(WEB_SERVER_TRUST, "web01", server([contoso]), config)), []);
    });

    it("names the server, the missing root and where to add it", async () => {
      const violations = await validate(requiredRoots, resourceArgs(WEB_SERVER_TRUST, "web02", server([fabrikam]), config));
      assert.deepEqual(violations, [
        `web02 does not declare the required root "Contoso Root CA G2" (${contoso.sha1}): add its root set to one of the server's groups (trusted-roots:groups.<group>.roots) or to the server's roots`,
      ]);
    });

    it("accepts SHA-256 thumbprints, and checks standalone TrustStores with the live store when known", async () => {
      const store = resourceArgs(TRUST_STORE, "edge-root", {
        connection: { host: "10.0.0.9" },
        store: "Root",
        roots: toRootInputs([fabrikam]),
        observed: { managed: [], foreign: [] },
      }, { requiredRoots: [{ thumbprint: contoso.sha256 }] });
      assert.deepEqual(await validate(requiredRoots, store), [
        `edge-root (10.0.0.9) does not declare the required root "${contoso.sha256}" (${contoso.sha256}); the host's store lacks it too, and this deploy will not add it: add it to this TrustStore's roots`,
      ]);
    });

    it("is not applicable outside the configured groups or tags, or to a component's own stores", async () => {
      assert.equal(await validate(requiredRoots, resourceArgs(WEB_SERVER_TRUST, "db01", server([], { groups: ["db"] }), { ...config, groups: ["web"] })), "n/a: db01 is in none of the groups web");
      assert.equal(await validate(requiredRoots, resourceArgs(WEB_SERVER_TRUST, "web03", server([]), { ...config, tags: { site: "west" } })), "n/a: web03 lacks the tags site=west");
      const child = resourceArgs(TRUST_STORE, "web01-root", { store: "Root", roots: {} }, config, `urn:pulumi:prod::trusted-roots::${WEB_SERVER_TRUST}::web01`);
      assert.equal(await validate(requiredRoots, child), "n/a: checked on its WebServerTrust");
    });
  });

  describe("forbidden-roots", () => {
    it("flags a forbidden root and a root both trusted and distrusted; passes a clean server", async () => {
      const config = { forbiddenRoots: [{ thumbprint: fabrikam.sha256, name: "Fabrikam (compromised)" }] };
      const violations = await validate(forbiddenRoots, resourceArgs(WEB_SERVER_TRUST, "web01", server([contoso, fabrikam], { distrusted: [identity(contoso)] }), config));
      assert.equal((violations as string[]).length, 2);
      assert.match((violations as string[])[0], /web01 declares the forbidden root "Fabrikam \(compromised\)" \(CN=Fabrikam Root, SHA-1 [0-9A-F]{40}\)/);
      assert.match((violations as string[])[1], /declares CN=Contoso Root CA G2 .* both as trusted and as distrusted/);
      assert.deepEqual(await validate(forbiddenRoots, resourceArgs(WEB_SERVER_TRUST, "web02", server([contoso]), config)), []);
    });
  });

  describe("root-hygiene", () => {
    it("blocks weak keys, MD5 signatures and intermediates; passes good roots", async () => {
      const violations = (await validate(rootHygiene, resourceArgs(WEB_SERVER_TRUST, "web01", server([contoso, weak, md5, intermediate]), {}))) as string[];
      assert.equal(violations.length, 3, violations.join("\n"));
      assert.match(violations.join("\n"), /Weak Root.*1024-bit RSA key, under the 2048-bit minimum/);
      assert.match(violations.join("\n"), /MD5 Root.*signed with MD5 \(md5WithRSAEncryption\)/);
      assert.match(violations.join("\n"), /Issuing.*is not self-signed/);
      assert.deepEqual(await validate(rootHygiene, resourceArgs(WEB_SERVER_TRUST, "web02", server([contoso, fabrikam]), {})), []);
    });

    it("blocks an expired root (checked on a TrustStore, whose roots carry PEM only)", async () => {
      const props = { store: "Root", connection: { host: "h" }, roots: toRootInputs([shortLived]) };
      const inElevenDays = new Date(Date.now() + 11 * 24 * 3600 * 1000);
      const { hygieneViolations } = await import("../../policies/rootHygiene");
      assert.match(hygieneViolations({ type: TRUST_STORE, name: "s", props }, {}, inElevenDays).join(), /root CN=Short Root .* expired on/);
      assert.deepEqual(hygieneViolations({ type: TRUST_STORE, name: "s", props }, {}), []);
    });

    it("warns about roots expiring soon and declared twice; the level is overridable per policy", async () => {
      const warnings = (await validate(rootHygieneWarnings, resourceArgs(WEB_SERVER_TRUST, "web01", server([shortLived, contoso, contoso]), {}))) as string[];
      assert.equal(warnings.length, 2, warnings.join("\n"));
      assert.match(warnings[0], /Short Root .* expires on .* within 30 days/);
      assert.match(warnings[1], /Contoso Root CA G2 .* is declared more than once/);
      assert.deepEqual(await validate(rootHygieneWarnings, resourceArgs(WEB_SERVER_TRUST, "web01", server([shortLived]), { expiryWarningDays: 5 })), []);
      assert.equal(rootHygieneWarnings.enforcementLevel, "advisory");
      assert.equal(rootHygiene.enforcementLevel, "mandatory");
    });
  });

  describe("pinned-host-keys", () => {
    it("requires a usable pin on every connected resource and refuses insecureSkipHostKeyCheck", async () => {
      const connection = (extra: object) => ({ connection: { host: "10.0.0.5", ...extra } });
      assert.deepEqual(await validate(pinnedHostKeys, resourceArgs(TRUST_STORE, "a", connection({ hostKey }))), []);
      assert.match(((await validate(pinnedHostKeys, resourceArgs(HOST_REBOOT, "b", connection({})))) as string[])[0], /b connects to 10\.0\.0\.5 without a pinned host key/);
      assert.match(((await validate(pinnedHostKeys, resourceArgs(REMOTE_COMMAND, "c", connection({ hostKey, insecureSkipHostKeyCheck: true })))) as string[])[0], /insecureSkipHostKeyCheck/);
      assert.match(((await validate(pinnedHostKeys, resourceArgs(TRUST_STORE, "d", connection({ hostKey: "garbage" })))) as string[])[0], /connection\.hostKey for 10\.0\.0\.5 is unusable/);
      assert.deepEqual(await validate(pinnedHostKeys, resourceArgs("aws:s3/bucket:Bucket", "e", {})), []);
    });
  });

  describe("after-change-action", () => {
    it("asks Windows servers for a reboot or W3SVC restart, and reboots for a health check", async () => {
      assert.match(((await validate(afterChangeAction, resourceArgs(WEB_SERVER_TRUST, "iis01", server([contoso], { platform: "windows", afterChange: { action: "none" } })))) as string[])[0], /no reboot or W3SVC restart/);
      assert.match(((await validate(afterChangeAction, resourceArgs(WEB_SERVER_TRUST, "iis02", server([contoso], { platform: "windows", afterChange: { action: "reboot" } })))) as string[])[0], /reboots after a change but has no health check/);
      assert.deepEqual(await validate(afterChangeAction, resourceArgs(WEB_SERVER_TRUST, "iis03", server([contoso], { platform: "windows", afterChange: { action: "reboot" }, healthCheck: { url: "https://iis03/" } }))), []);
      assert.equal(afterChangeAction.enforcementLevel, "advisory");
    });
  });

  describe("rollout-safety", () => {
    it("limits wave size to a share of the fleet (one server per wave always allowed)", async () => {
      const fleet = (serverCount: number, rollout: object, config = {}) => validate(rolloutSafety, resourceArgs(TRUST_FLEET, "prod", { serverCount, rollout }, config));
      assert.deepEqual(await fleet(8, {}), []);
      assert.deepEqual(await fleet(3, { batchSize: 1 }), []);
      assert.match(((await fleet(8, { batchSize: 4 })) as string[])[0], /wave 1 holds 4 of 8 servers, more than 25% \(2\)/);
      assert.deepEqual(await fleet(8, { batchSize: 4 }, { maxWavePercent: 50 }), []);
    });

    it("requires a timeout on every reboot", async () => {
      assert.deepEqual(await validate(rolloutSafety, resourceArgs(HOST_REBOOT, "r", { timeoutSeconds: 600 })), []);
      assert.match(((await validate(rolloutSafety, resourceArgs(HOST_REBOOT, "r", {}))) as string[])[0], /reboots without a timeout/);
    });
  });

  describe("fleet-coverage (stack)", () => {
    const stackArgs = (resources: object[]): StackValidationArgs =>
      ({ resources, getConfig: () => ({}), stackTags: new Map(), notApplicable: () => { throw new NotApplicable(); } }) as unknown as StackValidationArgs;
    const run = async (policy: StackValidationPolicy, args: StackValidationArgs) => {
      const violations: string[] = [];
      await policy.validateStack!(args, (message) => violations.push(message));
      return violations;
    };

    it("reports servers without a store holding a root, with the fleet's counts", async () => {
      const component = (name: string) => ({ type: WEB_SERVER_TRUST, name, urn: `urn:${name}`, props: {} });
      const store = (name: string, parent: string, roots: Certificate[]) => ({ type: TRUST_STORE, name, urn: `urn:${name}`, props: { roots: toRootInputs(roots) }, parent: { urn: parent } });
      const covered = [component("web01"), store("web01-root", "urn:web01", [contoso]), component("web02"), store("web02-root", "urn:web02", [contoso, fabrikam])];
      assert.deepEqual(await run(fleetCoverage, stackArgs(covered)), []);
      const gap = [...covered, component("web03"), store("web03-root", "urn:web03", [])];
      assert.deepEqual(await run(fleetCoverage, stackArgs(gap)), ["1 of 3 servers have no trust store with a root (web03); the fleet has 3 trust stores declaring 3 roots in all"]);
    });
  });
});
