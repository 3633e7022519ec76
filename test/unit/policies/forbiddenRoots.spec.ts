import { strict as assert } from "node:assert";
import { forbiddenRoots } from "../../../policies/forbiddenRoots";
import { WEB_SERVER_TRUST } from "../../../policies/shared";
import { declaredIdentities } from "../../../components/WebServerTrust";
import { policyFixtures, resourceArgs, serverProps, validate } from "../../support/policyArgs";

describe("policy forbidden-roots", function () {
  this.timeout(30_000);
  const { contoso, fabrikam } = policyFixtures();
  describe("cases", () => {
    it("flags a forbidden root and a root both trusted and distrusted; passes a clean server", async () => {
      const config = { forbiddenRoots: [{ thumbprint: fabrikam.sha256, name: "Fabrikam (compromised)" }] };
      const violations = await validate(forbiddenRoots, resourceArgs(WEB_SERVER_TRUST, "web01", serverProps([contoso, fabrikam], { distrusted: declaredIdentities([contoso]) }), config));
      assert.equal((violations as string[]).length, 2);
      assert.match((violations as string[])[0], /web01 declares the forbidden root "Fabrikam \(compromised\)" \(CN=Fabrikam Root, SHA-1 [0-9A-F]{40}\)/);
      assert.match((violations as string[])[1], /declares CN=Contoso Root CA G2 .* both as trusted and as distrusted/);
      assert.deepEqual(await validate(forbiddenRoots, resourceArgs(WEB_SERVER_TRUST, "web02", serverProps([contoso]), config)), []);
    });
  });
});
