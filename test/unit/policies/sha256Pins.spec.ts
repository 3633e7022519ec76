import { strict as assert } from "node:assert";
import { toRootInputs } from "../../../components/resources/trustStoreCore";
import { sha256Pins } from "../../../policies/sha256Pins";
import { TRUST_STORE, WEB_SERVER_TRUST } from "../../../policies/shared";
import { policyFixtures, resourceArgs, serverProps, validate } from "../../support/policyArgs";

describe("policy sha256-pins (advisory)", function () {
  this.timeout(30_000);
  const { contoso, fabrikam } = policyFixtures();
  const url = "http://pki.contoso.com/root.crt";

  it("warns where a fetched root was selected by a SHA-1 pin, giving the SHA-256 to pin; on servers and TrustStores", async () => {
    const bySha1 = { ...contoso, fetchedFrom: { url, pinned: true, pinnedBy: "SHA-1" as const } };
    const bySha256 = { ...fabrikam, fetchedFrom: { url, pinned: true, pinnedBy: "SHA-256" as const } };
    const server = (await validate(sha256Pins, resourceArgs(WEB_SERVER_TRUST, "web01", serverProps([bySha1, bySha256]), {}))) as string[];
    assert.deepEqual(server, [
      `web01: roots entry ${contoso.subject} was fetched from ${url} and selected by its SHA-1 thumbprint ${contoso.sha1}; pin its SHA-256 instead: ${contoso.sha256}`,
    ]);
    const store = (await validate(sha256Pins, resourceArgs(TRUST_STORE, "library-root", { store: "Root", roots: toRootInputs([bySha1]) }, {}))) as string[];
    assert.equal(store.length, 1);
    assert.equal(sha256Pins.enforcementLevel, "advisory");
  });

  it("warns where a required root is named by SHA-1 and the server declares it; SHA-256 names and absent roots pass", async () => {
    const config = { requiredRoots: [{ thumbprint: contoso.sha1.toLowerCase(), name: "Contoso" }, { thumbprint: fabrikam.sha256, name: "Fabrikam" }] };
    const warnings = (await validate(sha256Pins, resourceArgs(WEB_SERVER_TRUST, "web01", serverProps([contoso, fabrikam]), config))) as string[];
    assert.deepEqual(warnings, [`web01: the required root "Contoso" is named by its SHA-1 thumbprint ${contoso.sha1}; name it by its SHA-256 instead: ${contoso.sha256}`]);
    assert.deepEqual(await validate(sha256Pins, resourceArgs(WEB_SERVER_TRUST, "web02", serverProps([fabrikam]), config)), []);
  });
});
