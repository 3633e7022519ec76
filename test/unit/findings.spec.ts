import { strict as assert } from "node:assert";
import { parseCertificates, type Certificate } from "../../components/certificates";
import type { ObservedStore } from "../../components/platforms";
import { identityOf } from "../../components/platforms/observation";
import { evaluateHost } from "../../components/scan/findings";
import { TestPki } from "../support/pki";

describe("scan findings and who holds a root", function () {
  this.timeout(30_000);
  const pki = new TestPki();
  let declared: Certificate;
  let stale: Certificate;
  let othersRoot: Certificate;
  let legacy: Certificate;

  before(() => {
    [declared, stale, othersRoot, legacy] = ["declared", "stale", "others", "legacy"].map((name) => parseCertificates(pki.root(name, `/CN=${name}`, { key: "ec256" }).pem)[0]);
  });

  const entry = ({ sha1, sha256, subject }: Certificate) => ({ sha1, sha256, subject });
  const observed = (): ObservedStore => ({
    platform: "debian",
    store: "Root",
    bootId: "b",
    pendingReboot: false,
    roots: [declared, stale, othersRoot, legacy].map((certificate) => ({ ...identityOf(certificate), origin: "managed" as const, trusted: true, locations: [] })),
    distrusted: [],
    manifest: {
      version: 2,
      roots: [
        { ...entry(declared), owners: ["web/prod/web01-root"] },
        { ...entry(stale), owners: ["web/prod/web01-root", "web/prod/web02-root"] },
        { ...entry(othersRoot), owners: ["payments/prod/web01-root-x", "web/staging/web02-root"] },
        entry(legacy),
      ],
      distrusted: [],
    },
    manifestDigest: "absent",
    warnings: [],
  });

  it("a managed root only other declarations hold is theirs (foreign, naming them), not this server's drift", () => {
    const finding = evaluateHost({ name: "web01", host: "h", platform: "debian", roots: [declared], distrusted: [], mode: "exact" }, observed(), 1);
    assert.deepEqual(finding.unexpected.map((root) => root.subject).sort(), [legacy.subject, stale.subject].sort(), "held by this server, or by nobody recorded");
    assert.deepEqual(finding.foreign.map((root) => [root.subject, root.origin]), [[othersRoot.subject, "managed by payments/prod/web01-root-x, web/staging/web02-root"]]);
    assert.equal(finding.status, "drift");
  });

  it("the same host seen as web02 of stack web/prod: the stale root is also web02's; staging's web02 is another declaration", () => {
    const finding = evaluateHost({ name: "web02", host: "h", platform: "debian", roots: [declared, legacy], distrusted: [], mode: "exact", ownerPrefix: "web/prod/" }, observed(), 1);
    assert.deepEqual(finding.unexpected.map((root) => root.subject), [stale.subject]);
    // Not knowing the stack, any web02 declaration counts as this server's.
    const unscoped = evaluateHost({ name: "web02", host: "h", platform: "debian", roots: [declared, legacy], distrusted: [], mode: "exact" }, observed(), 1);
    assert.deepEqual(unscoped.unexpected.map((root) => root.subject).sort(), [othersRoot.subject, stale.subject].sort());
  });
});
