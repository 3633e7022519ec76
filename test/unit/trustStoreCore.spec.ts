import { strict as assert } from "node:assert";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { plan } from "../../components/plan";
import type { ObservedStore } from "../../components/platforms";
import { identityOf } from "../../components/platforms/observation";
import {
  checkRoots,
  liveInputs,
  nextRevision,
  replacementReasons,
  rootChanges,
  toRootInputs,
  trustStoreInputsSchema,
  type ValidTrustStoreInputs,
} from "../../components/resources/trustStoreCore";
import { TestPki } from "../support/pki";

describe("TrustStore spec (pure)", function () {
  this.timeout(30_000);
  const pki = new TestPki();
  let contoso: Certificate, fabrikam: Certificate, twin: Certificate, old: Certificate;

  before(() => {
    [contoso, fabrikam, twin, old] = [
      ["contoso", "/CN=Contoso Root"],
      ["fabrikam", "/CN=Fabrikam Root"],
      ["twin", "/O=Other/CN=Contoso Root"],
      ["old", "/CN=Old Root"],
    ].map(([stem, subject]) => parseCertificates(pki.root(stem, subject, { key: "ec256" }).pem)[0]);
  });

  const inputs = (roots: Certificate[], extra: Partial<ValidTrustStoreInputs> = {}): ValidTrustStoreInputs =>
    trustStoreInputsSchema.parse({
      providerVersion: "1",
      connection: { host: "web01", privateKey: "k", hostKey: "SHA256:" + "A".repeat(43) },
      platform: "debian",
      roots: toRootInputs(roots),
      ...extra,
    });

  const observed = (roots: ObservedStore["roots"]): ObservedStore => ({
    platform: "debian", store: "Root", bootId: "b", pendingReboot: false, roots, distrusted: [],
    manifest: { version: 1, roots: [], distrusted: [] }, manifestDigest: "absent",
    warnings: [],
  });

  it("keys roots by SHA-256: twins by name, a root named __proto__ and names crafted to collide all stay apart", () => {
    const proto = parseCertificates(pki.root("proto", "/CN=__proto__", { key: "ec256" }).pem)[0];
    const crafted = parseCertificates(pki.root("crafted", `/CN=Contoso Root (${contoso.sha1.slice(0, 8)})`, { key: "ec256" }).pem)[0];
    const declared = [contoso, twin, proto, crafted];
    const roots = toRootInputs(declared);
    assert.deepEqual(Object.keys(roots), declared.map((certificate) => certificate.sha256));
    // What the engine does with the map: serialize it and read it back through the schema.
    const reread = inputs([], { roots: JSON.parse(JSON.stringify(roots)) as ValidTrustStoreInputs["roots"] });
    assert.deepEqual(Object.values(reread.roots).map((root) => root.subject), declared.map((certificate) => certificate.subject));
    assert.deepEqual(checkRoots(reread), []);
  });

  it("check: expired, duplicate, both desired and distrusted, Windows' own stores and a root in a Linux CA store", () => {
    const failures = checkRoots(
      inputs([contoso, contoso], { distrusted: toRootInputs([fabrikam]), roots: { ...toRootInputs([contoso]), Copy: toRootInputs([contoso])[contoso.sha256], F: toRootInputs([fabrikam])[fabrikam.sha256] }, store: "CA" }),
      new Date("2100-01-01T00:00:00Z"),
    ).map((failure) => `${failure.property}: ${failure.reason}`);
    const text = failures.join("\n");
    assert.match(text, new RegExp(`roots\\["${contoso.sha256}"\\]: .*expired on`));
    assert.match(text, new RegExp(`roots\\["Copy"\\]: .*declared twice \\(also as roots\\["${contoso.sha256}"\\]\\)`));
    assert.match(text, new RegExp(`distrusted\\["${fabrikam.sha256}"\\]: is also desired as roots\\["F"\\]`));
    assert.match(text, new RegExp(`roots\\["${contoso.sha256}"\\]: .*is a self-signed root; on debian declare it under roots, not in the "CA" store`));
    const disallowed = checkRoots(inputs([contoso], { store: "ClientAuthIssuer" })).map((failure) => `${failure.property}: ${failure.reason}`);
    assert.deepEqual(disallowed, ['store: debian has the stores "Root" and "CA"; ClientAuthIssuer is Windows\' alone']);
  });

  it("check: a Java store needs its keystore (and an application truststore its password), Linux only, no distrusts; keystore only with it", () => {
    const reasons = (extra: Record<string, unknown>) => checkRoots(inputs([contoso], extra as Partial<ValidTrustStoreInputs>)).map((failure) => `${failure.property}: ${failure.reason}`);
    assert.deepEqual(reasons({ store: "Java" }), ['keystore: the store "Java" needs keystore: { kind: "jvm" }, { kind: "jdk", javaHome }, or { kind: "file", path }']);
    assert.deepEqual(reasons({ store: "Java", keystore: { kind: "file", path: "/opt/tomcat/conf/cas.p12" } }), [
      "keystorePassword: an application truststore needs its password (a secret): the one its server's JVM is configured with",
    ]);
    assert.deepEqual(reasons({ store: "Java", keystore: { kind: "jvm" } }), []);
    assert.deepEqual(reasons({ store: "Java", keystore: { kind: "file", path: "/x.p12" }, keystorePassword: "p" }), []);
    assert.deepEqual(reasons({ store: "Java", keystore: { kind: "jvm" }, platform: "windows" }), []);
    assert.deepEqual(reasons({ store: "Java", keystore: { kind: "file", path: "C:\\Tomcat\\conf\\cas.p12" }, keystorePassword: "p", platform: "windows" }), []);
    assert.deepEqual(reasons({ store: "Java", keystore: { kind: "file", path: "/opt/tomcat/conf/cas.p12" }, keystorePassword: "p", platform: "windows" }), [
      "keystore: path /opt/tomcat/conf/cas.p12 is not a Windows path: a Windows server's keystore is named like C:\\app\\conf\\client-cas.p12",
    ]);
    assert.deepEqual(reasons({ store: "Java", keystore: { kind: "jdk", javaHome: "C:\\jdk-17" } }), ["keystore: javaHome C:\\jdk-17 is not a path on a debian server: it starts with /"]);
    assert.match(reasons({ store: "Java", keystore: { kind: "jvm" }, distrusted: toRootInputs([fabrikam]) }).join(), /^distrusted: a Java keystore takes no distrusted roots yet/);
    assert.deepEqual(reasons({ keystore: { kind: "jvm" } }), ['keystore: is for the store "Java" (a Java keystore); this store is Root']);
    const invalid = trustStoreInputsSchema.safeParse({ ...inputs([contoso]), store: "Java", keystore: { kind: "jdk", path: "relative.p12" } });
    assert.equal(invalid.success, false);
    assert.deepEqual(invalid.error!.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).sort(), [
      "keystore.javaHome: a jdk keystore needs javaHome, the JDK's home (e.g. /opt/app/jdk)",
      "keystore.path: path is for kind file only",
      'keystore.path: path must be an absolute path: /opt/... on Linux, C:\\... on Windows (without " < > | ? *)',
    ]);
  });

  it("diff: another keystore is another store (replaced); the same one under a new password is an update", () => {
    const java = (keystore: Record<string, unknown>, keystorePassword?: string) => inputs([contoso], { store: "Java", keystore, keystorePassword } as Partial<ValidTrustStoreInputs>);
    assert.deepEqual(replacementReasons(java({ kind: "file", path: "/a.p12" }, "p"), java({ kind: "file", path: "/b.p12" }, "p")), ["keystore"]);
    assert.deepEqual(replacementReasons(java({ kind: "file", path: "/a.p12" }, "p"), java({ kind: "file", path: "/a.p12" }, "q")), []);
    assert.deepEqual(replacementReasons(java({ kind: "jvm" }), java({ kind: "jdk", javaHome: "/opt/jdk" })), ["keystore"]);
  });

  it("check: fingerprints that do not match the PEM", () => {
    const tampered = inputs([contoso]);
    tampered.roots[contoso.sha256] = { ...tampered.roots[contoso.sha256], sha256: fabrikam.sha256 };
    assert.match(checkRoots(tampered).map((failure) => failure.reason).join(), /fingerprints do not match the PEM/);
  });

  it("the live view keeps trusted declared roots and adds removable managed ones this resource holds (exact) but not in additive mode", () => {
    const host = observed([
      { ...identityOf(fabrikam), origin: "managed", trusted: true, locations: ["/a"] },
      { ...identityOf(old), origin: "managed", trusted: true, locations: ["/b"] },
    ]);
    host.manifest.roots = [fabrikam, old].map((certificate) => ({ sha256: certificate.sha256, sha1: certificate.sha1, subject: certificate.subject, store: "Root", owners: ["p/s/web01-root#0a1b2c3d"] }));
    const exact = liveInputs(inputs([contoso, fabrikam]), host, "p/s/web01-root#0a1b2c3d");
    assert.deepEqual(Object.keys(exact.roots).sort(), [fabrikam.sha256, old.sha256].sort());
    assert.deepEqual(rootChanges(exact, inputs([contoso, fabrikam])), [`+ roots: CN=Contoso Root (SHA-256 ${contoso.sha256})`, `- roots: CN=Old Root (SHA-256 ${old.sha256})`]);
    const additive = liveInputs(inputs([contoso, fabrikam], { mode: "additive" }), host, "p/s/web01-root#0a1b2c3d");
    assert.deepEqual(Object.keys(additive.roots), [fabrikam.sha256]);
  });

  it("another stack's root on the same host is not drift of this one (found by the shared-backend engine test: a refresh preview showed ~roots)", () => {
    const host = observed([
      { ...identityOf(fabrikam), origin: "managed", trusted: true, locations: ["/a"] },
      { ...identityOf(old), origin: "managed", trusted: true, locations: ["/b"] },
    ]);
    host.manifest.roots = [
      { sha256: fabrikam.sha256, sha1: fabrikam.sha1, subject: fabrikam.subject, store: "Root", owners: ["site-a/prod/h2-root#11111111"] },
      { sha256: old.sha256, sha1: old.sha1, subject: old.subject, store: "Root", owners: ["site-b/prod/h2-root#22222222"] },
    ];
    const siteA = liveInputs(inputs([fabrikam]), host, "site-a/prod/h2-root#11111111");
    assert.deepEqual(Object.keys(siteA.roots), [fabrikam.sha256]);
    assert.deepEqual(rootChanges(siteA, inputs([fabrikam])), []);
  });

  it("revision changes only when something was applied, and differs for different changes", () => {
    const change = plan({ roots: [contoso] }, observed([]), "exact");
    const first = nextRevision(undefined, change, true);
    assert.match(first, /^[0-9a-f]{16}$/);
    assert.equal(nextRevision(first, plan({ roots: [] }, observed([]), "exact"), false), first);
    assert.notEqual(nextRevision(first, change, true), first);
    assert.notEqual(nextRevision(first, plan({ roots: [fabrikam] }, observed([]), "exact"), true), nextRevision(first, change, true));
  });

  it("replacement only for a different server (address and key), platform or store", () => {
    const base = inputs([contoso]);
    const withConnection = (changes: object) => ({ ...base, connection: { ...base.connection, ...changes } });
    assert.deepEqual(replacementReasons(base, withConnection({ host: "web01.new" })), []);
    assert.deepEqual(replacementReasons(base, withConnection({ user: "deploy" })), []);
    assert.deepEqual(replacementReasons(base, withConnection({ port: 2222 })), [], "a new port, the same pinned key");
    assert.deepEqual(replacementReasons(base, withConnection({ host: "web02", hostKey: "SHA256:" + "B".repeat(43) })), ["connection"]);
    assert.deepEqual(replacementReasons(base, { ...base, platform: "rhel" }), ["platform"]);
  });

  it("a new address without a pinned key on both sides is a new server: replaced, so the old one loses its roots", () => {
    const base = inputs([contoso]);
    const unpinned = { ...base, connection: { ...base.connection, hostKey: undefined, insecureSkipHostKeyCheck: true } };
    const moved = { ...unpinned, connection: { ...unpinned.connection, host: "web02" } };
    assert.deepEqual(replacementReasons(unpinned, moved), ["connection"]);
    assert.deepEqual(replacementReasons(unpinned, { ...unpinned, connection: { ...unpinned.connection, port: 2222 } }), ["connection"]);
    assert.deepEqual(replacementReasons(base, { ...moved }), ["connection"], "pinned before, unpinned after");
  });
});
