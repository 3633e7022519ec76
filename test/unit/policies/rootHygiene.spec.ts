import { strict as assert } from "node:assert";
import { toRootInputs } from "../../../components/resources/trustStoreCore";
import { hygieneViolations, rootHygiene, rootHygieneWarnings } from "../../../policies/rootHygiene";
import { TRUST_STORE, WEB_SERVER_TRUST } from "../../../policies/shared";
import { policyFixtures, resourceArgs, serverProps, validate } from "../../support/policyArgs";

describe("policy root-hygiene", function () {
  this.timeout(30_000);
  const { contoso, fabrikam, weak, md5, shortLived, intermediate } = policyFixtures();
  describe("cases", () => {
    it("blocks weak keys, MD5 signatures and intermediates; passes good roots", async () => {
      const violations = (await validate(rootHygiene, resourceArgs(WEB_SERVER_TRUST, "web01", serverProps([contoso, weak, md5, intermediate]), {}))) as string[];
      assert.equal(violations.length, 3, violations.join("\n"));
      assert.match(violations.join("\n"), /Weak Root.*1024-bit RSA key, under the 2048-bit minimum/);
      assert.match(violations.join("\n"), /MD5 Root.*signed with MD5 \(md5WithRSAEncryption\)/);
      assert.match(violations.join("\n"), /Issuing.*is not self-signed/);
      assert.deepEqual(await validate(rootHygiene, resourceArgs(WEB_SERVER_TRUST, "web02", serverProps([contoso, fabrikam]), {})), []);
    });

    it("blocks an expired root (checked on a TrustStore, whose roots carry PEM only)", async () => {
      const props = { store: "Root", connection: { host: "h" }, roots: toRootInputs([shortLived]) };
      const inElevenDays = new Date(Date.now() + 11 * 24 * 3600 * 1000);
      assert.match(hygieneViolations({ type: TRUST_STORE, name: "s", props }, {}, inElevenDays).join(), /root CN=Short Root .* expired on/);
      assert.deepEqual(hygieneViolations({ type: TRUST_STORE, name: "s", props }, {}), []);
    });

    it("warns about roots expiring soon and declared twice; the level is overridable per policy", async () => {
      const warnings = (await validate(rootHygieneWarnings, resourceArgs(WEB_SERVER_TRUST, "web01", serverProps([shortLived, contoso, contoso]), {}))) as string[];
      assert.equal(warnings.length, 2, warnings.join("\n"));
      assert.match(warnings[0], /Short Root .* expires on .* within 30 days/);
      assert.match(warnings[1], /Contoso Root CA G2 .* is declared more than once/);
      assert.deepEqual(await validate(rootHygieneWarnings, resourceArgs(WEB_SERVER_TRUST, "web01", serverProps([shortLived]), { expiryWarningDays: 5 })), []);
      assert.equal(rootHygieneWarnings.enforcementLevel, "advisory");
      assert.equal(rootHygiene.enforcementLevel, "mandatory");
    });
  });
});
