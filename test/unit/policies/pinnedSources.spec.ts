import { strict as assert } from "node:assert";
import { declaredIdentities } from "../../../components/WebServerTrust";
import { toRootInputs } from "../../../components/resources/trustStoreCore";
import { pinnedSources } from "../../../policies/pinnedSources";
import { TRUST_STORE, WEB_SERVER_TRUST } from "../../../policies/shared";
import { policyFixtures, resourceArgs, serverProps, validate } from "../../support/policyArgs";

describe("policy pinned-sources", function () {
  this.timeout(30_000);
  const { contoso, fabrikam } = policyFixtures();
  const url = "http://pki.contoso.com/root.crt";

  it("blocks a root fetched without a pinned thumbprint, naming the server, the root and the source", async () => {
    const unpinned = { ...contoso, fetchedFrom: { url, pinned: false } };
    const violations = (await validate(pinnedSources, resourceArgs(WEB_SERVER_TRUST, "web01", serverProps([unpinned, fabrikam]), {}))) as string[];
    assert.equal(violations.length, 1, violations.join("\n"));
    assert.match(violations[0], new RegExp(`^web01: roots entry CN=Contoso Root CA G2.* \\(SHA-256 ${contoso.sha256}\\) was fetched from http://pki\\.contoso\\.com/root\\.crt without a pinned thumbprint`));
    const distrusted = (await validate(pinnedSources, resourceArgs(WEB_SERVER_TRUST, "web01", serverProps([fabrikam], { distrusted: declaredIdentities([unpinned]) }), {}))) as string[];
    assert.match(distrusted.join(), /distrusted entry/);
    assert.equal(pinnedSources.enforcementLevel, "mandatory");
  });

  it("passes pinned fetched roots, roots from files, and resources that are not servers", async () => {
    const pinned = { ...contoso, fetchedFrom: { url, pinned: true } };
    assert.deepEqual(await validate(pinnedSources, resourceArgs(WEB_SERVER_TRUST, "web01", serverProps([pinned, fabrikam]), {})), []);
    assert.deepEqual(await validate(pinnedSources, resourceArgs(TRUST_STORE, "web01-root", { roots: {} }, {})), []);
  });

  it("blocks unpinned roots handed to a TrustStore directly (the library path), unless a WebServerTrust declared it", async () => {
    const unpinned = { ...contoso, fetchedFrom: { url, pinned: false } };
    const props = { connection: { host: "10.0.0.5" }, store: "Root", roots: toRootInputs([unpinned, fabrikam]) };
    const violations = (await validate(pinnedSources, resourceArgs(TRUST_STORE, "library-root", props, {}))) as string[];
    assert.equal(violations.length, 1, violations.join("\n"));
    assert.match(violations[0], new RegExp(`^library-root \\(10\\.0\\.0\\.5\\): roots entry CN=Contoso Root CA G2.* \\(SHA-256 ${contoso.sha256}\\) was fetched from http://pki\\.contoso\\.com/root\\.crt without a pinned thumbprint`));
    const child = resourceArgs(TRUST_STORE, "web01-root", props, {}, `urn:pulumi:s::p::${WEB_SERVER_TRUST}::web01`);
    assert.deepEqual(await validate(pinnedSources, child), [], "checked once, on its WebServerTrust");
  });
});
