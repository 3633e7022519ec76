import { strict as assert } from "node:assert";
import { describeCertificate, parseCertificates, type Certificate } from "../../components/certificates";
import type { ObservedStore } from "../../components/platforms";
import { identityOf } from "../../components/platforms/observation";
import { evaluateHost, exitCodeFor, kindsOf, parseFailOn } from "../../components/scan/findings";
import { buildReport, renderJunit, renderTable } from "../../components/scan/report";
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

describe("scan findings: roots that expire before they bite", () => {
  const now = new Date("2026-12-02T00:00:00Z");
  const root = (subject: string, notAfter: string, origin: "managed" | "local" | "system") => ({
    sha1: subject.padEnd(40, "0").slice(0, 40).replace(/[^0-9A-F]/g, "A"),
    sha256: subject.padEnd(64, "0").slice(0, 64).replace(/[^0-9A-F]/g, "B"),
    subject: `CN=${subject}`,
    commonName: subject,
    notAfter,
    origin,
    trusted: true,
    locations: [],
  });
  const observed = (): ObservedStore => ({
    platform: "debian",
    store: "Root",
    bootId: "b",
    pendingReboot: false,
    roots: [
      root("soon", "2026-12-12T00:00:00.000Z", "managed"),
      root("gone", "2026-11-01T00:00:00.000Z", "local"),
      root("later", "2027-06-01T00:00:00.000Z", "managed"),
      root("vendor-old", "2020-01-01T00:00:00.000Z", "system"),
    ],
    distrusted: [],
    manifest: { version: 2, roots: [], distrusted: [] },
    manifestDigest: "absent",
    warnings: [],
  });
  // The managed roots are declared: their expiry, not their presence, is the finding.
  const host = {
    name: "web01",
    host: "h",
    platform: "debian",
    roots: observed().roots.filter((entry) => entry.origin === "managed") as unknown as Certificate[],
    distrusted: [],
    mode: "additive" as const,
  };

  it("managed and foreign roots within the window are expiring, past it expired; the OS's own are left to the OS", () => {
    const finding = evaluateHost(host, observed(), 1, { now, expiringDays: 30 });
    assert.deepEqual(finding.expiring.map((entry) => [entry.subject, entry.origin, entry.notAfter]), [["CN=soon", "managed", "2026-12-12T00:00:00.000Z"]]);
    assert.deepEqual(finding.expired.map((entry) => [entry.subject, entry.origin]), [["CN=gone", "local"]]);
    assert.deepEqual(evaluateHost(host, observed(), 1, { now, expiringDays: 5 }).expiring, [], "--expiring-days 5: ten days away is not yet a finding");
    assert.deepEqual(evaluateHost(host, observed(), 1, { now, expiringDays: 200 }).expiring.map((entry) => entry.subject), ["CN=soon", "CN=later"]);
  });

  it("shown in the table, the JSON and the JUnit report; failing only when --fail-on names them", () => {
    const finding = evaluateHost(host, observed(), 1, { now, expiringDays: 30 });
    assert.deepEqual(kindsOf(finding).filter((kind) => kind.startsWith("expir")), ["expiring", "expired"]);
    assert.equal(exitCodeFor([finding]), 0, "not in the default --fail-on");
    assert.equal(exitCodeFor([finding], parseFailOn("expired")), 2);
    const report = buildReport([finding], parseFailOn("expiring"), 5);
    assert.match(renderTable(report, false), /EXPIRED: CN=gone .*expiring: CN=soon \(2026-12-12\)/);
    assert.match(renderJunit(report), /<failure type="expiring"[\s\S]*expired 2026-11-01T00:00:00.000Z \(local\): CN=gone[\s\S]*expiring 2026-12-12T00:00:00.000Z \(managed\): CN=soon/);
    assert.deepEqual(JSON.parse(JSON.stringify(report)).hosts[0].expiring[0].notAfter, "2026-12-12T00:00:00.000Z");
  });
});

describe("scan output: what a certificate's maker chose is shown, never hidden", function () {
  this.timeout(30_000);
  const pki = new TestPki();
  const emptyStore: ObservedStore = {
    platform: "debian", store: "Root", bootId: "b", pendingReboot: false, roots: [], distrusted: [],
    manifest: { version: 2, roots: [], distrusted: [] }, manifestDigest: "absent", warnings: [],
  };

  it("a subject with bidirectional overrides, zero-width and control characters is escaped in the table, the JUnit report and messages", () => {
    // U+202E turns "Contoso Root gpj.exe" into what reads as "Contoso Root exe.jpg"; U+200B hides a difference.
    const [sneaky] = parseCertificates(pki.root("sneaky", "/O=Contoso\u202Egpj.exe/CN=Root\u200BCA\u2066", { key: "ec256" }).pem);
    const invisible = /[\u202E\u200B\u2066]/;
    assert.equal(sneaky.subject, "CN=Root\\u{200B}CA\\u{2066}, O=Contoso\\u{202E}gpj.exe");
    assert.equal(sneaky.commonName, "Root\\u{200B}CA\\u{2066}");
    assert.equal(parseCertificates(pki.root("plain", "/CN=Fő tanúsítvány 認証局", { key: "ec256" }).pem)[0].commonName, "Fő tanúsítvány 認証局", "visible text of any script is kept");
    const finding = evaluateHost({ name: "web01", host: "h", platform: "debian", roots: [sneaky], distrusted: [], mode: "exact" }, emptyStore, 1);
    const report = buildReport([finding], parseFailOn("missing"), 5);
    for (const text of [renderTable(report, false), renderJunit(report), describeCertificate(sneaky), JSON.stringify(report)]) {
      assert.doesNotMatch(text, invisible);
      assert.match(text, /Root\\{1,2}u\{200B\}CA/);
    }
  });
});
