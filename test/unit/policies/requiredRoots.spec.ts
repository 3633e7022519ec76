import { strict as assert } from "node:assert";
import { toRootInputs } from "../../../components/resources/trustStoreCore";
import { requiredRoots } from "../../../policies/requiredRoots";
import { TRUST_STORE, WEB_SERVER_TRUST } from "../../../policies/shared";
import { policyFixtures, resourceArgs, serverProps, validate } from "../../support/policyArgs";

describe("policy required-roots", function () {
  this.timeout(30_000);
  const { contoso, fabrikam } = policyFixtures();
  describe("cases", () => {
    let config: { requiredRoots: { thumbprint: string; name?: string }[] };
    before(() => {
      config = { requiredRoots: [{ thumbprint: `\u200e${contoso.sha1.toLowerCase().replace(/(..)/g, "$1 ")}`, name: "Contoso Root CA G2" }] };
    });

    it("passes a server that declares the root (thumbprint pasted from certmgr)", async () => {
      assert.deepEqual(await validate(requiredRoots, resourceArgs(WEB_SERVER_TRUST, "web01", serverProps([contoso]), config)), []);
    });

    it("names the server, the missing root and where to add it", async () => {
      const violations = await validate(requiredRoots, resourceArgs(WEB_SERVER_TRUST, "web02", serverProps([fabrikam]), config));
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

    it("checks a standalone Java store like a root store (the JVM trusts only its keystore); a CA store is not applicable", async () => {
      const java = (roots: typeof contoso[]) =>
        resourceArgs(TRUST_STORE, "tomcat-java", { connection: { host: "10.0.0.7" }, store: "Java", keystore: { kind: "jvm" }, roots: toRootInputs(roots) }, config);
      assert.deepEqual(await validate(requiredRoots, java([contoso])), []);
      assert.deepEqual(await validate(requiredRoots, java([fabrikam])), [
        `tomcat-java (10.0.0.7) does not declare the required root "Contoso Root CA G2" (${contoso.sha1}): add it to this TrustStore's roots`,
      ]);
      const ca = resourceArgs(TRUST_STORE, "web01-ca", { connection: { host: "10.0.0.7" }, store: "CA", roots: {} }, config);
      assert.equal(await validate(requiredRoots, ca), "n/a: not a root store or Java keystore");
    });

    it("is not applicable outside the configured groups or tags, or to a component's own stores", async () => {
      assert.equal(await validate(requiredRoots, resourceArgs(WEB_SERVER_TRUST, "db01", serverProps([], { groups: ["db"] }), { ...config, groups: ["web"] })), "n/a: db01 is in none of the groups web");
      assert.equal(await validate(requiredRoots, resourceArgs(WEB_SERVER_TRUST, "web03", serverProps([]), { ...config, tags: { site: "west" } })), "n/a: web03 lacks the tags site=west");
      const child = resourceArgs(TRUST_STORE, "web01-root", { store: "Root", roots: {} }, config, `urn:pulumi:prod::trusted-roots::${WEB_SERVER_TRUST}::web01`);
      assert.equal(await validate(requiredRoots, child), "n/a: checked on its WebServerTrust");
    });
  });
});
