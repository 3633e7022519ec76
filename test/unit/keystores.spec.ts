import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aliasFor, KeystoreError, keystoreTypeOf, readKeystore, rewriteKeystore, type Keystore } from "../../components/keystores";
import { TestPki, type TestCertificate } from "../support/pki";
import { keytoolListing } from "../support/keytool";

// Every keystore here is made, and every rewrite read back, by the JDK's own keytool: the codec is right when the
// JVM agrees with it, not when it agrees with itself.

const PASSWORD = "s3cret-pass";
const sha256 = (der: Buffer) => createHash("sha256").update(der).digest("hex");

/** Every JDK's keytool on this machine (Debian's OpenJDK 17 at least): each JDK writes PKCS12 its own way. */
const KEYTOOLS = [
  ...new Set(
    readdirSync("/usr/lib/jvm")
      .map((jdk) => join("/usr/lib/jvm", jdk, "bin", "keytool"))
      .filter((path) => existsSync(path))
      .map((path) => realpathSync(path)),
  ),
];
let keytoolPath = "keytool";

function keytool(args: string[]): string {
  return execFileSync(keytoolPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** keytool's own view: alias -> entry type and SHA-256 fingerprint (lower-case hex, no colons). */
function keytoolEntries(path: string, password: string, type: string): Map<string, { entry: string; sha256: string }> {
  const listing = keytool(["-list", "-v", "-keystore", path, "-storetype", type, "-storepass", password]);
  return new Map(keytoolListing(listing).flatMap(({ alias, type: entry, sha256 }) => (sha256 ? [[alias, { entry, sha256: sha256.toLowerCase() }] as const] : [])));
}

describe("Java keystores (JKS and PKCS12), read and rewritten as the JDK's keytool sees them", () => {
  const pki = new TestPki();
  let rsaRoot: TestCertificate;
  let ecRoot: TestCertificate;
  let renewed: TestCertificate;

  before(function () {
    if (KEYTOOLS.length === 0) throw new Error("no JDK's keytool under /usr/lib/jvm: scripts/install-system-deps.sh installs openjdk-17-jre-headless");
    rsaRoot = pki.root("rsa", "/CN=Contoso Java Root/O=Contoso");
    ecRoot = pki.root("ec", "/CN=Contoso EC Root/O=Contoso", { key: "ec256" });
    // Same subject as rsaRoot, another key: a renewal, which JKS tools keyed by alias or subject get wrong.
    renewed = pki.root("renewed", "/CN=Contoso Java Root/O=Contoso");
  });

  /** A keystore of the given type made by keytool: rsaRoot trusted as "legacy-root", plus a key pair "server". */
  function keytoolStore(type: "JKS" | "PKCS12"): string {
    const path = join(pki.dir, `made-${type}-${Math.random().toString(16).slice(2)}.ks`);
    keytool(["-importcert", "-noprompt", "-alias", "legacy-root", "-file", rsaRoot.certPath, "-keystore", path, "-storetype", type, "-storepass", PASSWORD]);
    keytool(["-genkeypair", "-alias", "server", "-keyalg", "EC", "-dname", "CN=server", "-keystore", path, "-storetype", type, "-storepass", PASSWORD, "-keypass", PASSWORD]);
    return path;
  }

  for (const [jdk, type] of KEYTOOLS.flatMap((path) => (["JKS", "PKCS12"] as const).map((storeType) => [path, storeType] as const))) {
    describe(`${type}, made and checked by ${jdk}`, () => {
      before(() => (keytoolPath = jdk));

      it("reads keytool's store: the trusted root by its SHA-256, the key pair kept aside, the type detected", () => {
        const path = keytoolStore(type);
        const keystore = readKeystore(readFileSync(path), PASSWORD, path);
        assert.equal(keystore.type, type);
        const trusted = keystore.entries.filter((entry) => entry.kind === "trusted");
        assert.deepEqual(trusted.map((entry) => [entry.alias, sha256(entry.certificate!)]), [["legacy-root", sha256(pki.der(rsaRoot))]]);
        assert.ok(keystore.entries.some((entry) => entry.kind === "key" && entry.alias === "server"), "the key pair is an entry of its own");
      });

      it("a wrong password is refused by name before anything is read", () => {
        const path = keytoolStore(type);
        assert.throws(() => readKeystore(readFileSync(path), "wrong-password", "app truststore"), (error: Error) => {
          assert.ok(error instanceof KeystoreError);
          assert.match(error.message, /^app truststore: the keystore's integrity check failed: the password is wrong/);
          return true;
        });
      });

      it("a rewrite removes by alias, adds roots under fingerprint aliases, keeps the key usable; keytool agrees, and refuses the wrong password", () => {
        const path = keytoolStore(type);
        const keystore = readKeystore(readFileSync(path), PASSWORD, path);
        const add = [ecRoot, renewed].map((root) => ({ alias: aliasFor(pki.der(root), "Contoso Root"), certificate: pki.der(root) }));
        const rewritten = join(pki.dir, `rewritten-${type}-${Math.random().toString(16).slice(2)}.ks`);
        writeFileSync(rewritten, rewriteKeystore(keystore, { remove: ["legacy-root"], add }, PASSWORD, path, new Date()));

        const seen = keytoolEntries(rewritten, PASSWORD, type);
        assert.deepEqual([...seen.keys()].sort(), [...add.map((entry) => entry.alias), "server"].sort());
        for (const entry of add) assert.deepEqual(seen.get(entry.alias), { entry: "trustedCertEntry", sha256: sha256(entry.certificate) });
        assert.equal(seen.get("server")?.entry, "PrivateKeyEntry");
        // A CSR needs the private key itself: the key entry survived byte for byte, still decryptable.
        assert.match(keytool(["-certreq", "-alias", "server", "-keystore", rewritten, "-storetype", type, "-storepass", PASSWORD, "-keypass", PASSWORD]), /BEGIN NEW CERTIFICATE REQUEST/);
        const wrong = spawnSync(keytoolPath, ["-list", "-keystore", rewritten, "-storetype", type, "-storepass", "wrong-password"], { encoding: "utf8" });
        assert.notEqual(wrong.status, 0, "keytool must refuse the wrong password on our rewrite");
        assert.match(wrong.stdout + wrong.stderr, /password was incorrect|integrity/i);
        // And our reader reads our writer.
        assert.deepEqual(
          readKeystore(readFileSync(rewritten), PASSWORD, rewritten).entries.filter((entry) => entry.kind === "trusted").map((entry) => sha256(entry.certificate!)).sort(),
          add.map((entry) => sha256(entry.certificate)).sort(),
        );
      });

      it("an alias already held by an entry that stays is refused, naming it; nothing is written", () => {
        const path = keytoolStore(type);
        const keystore: Keystore = readKeystore(readFileSync(path), PASSWORD, path);
        assert.throws(() => rewriteKeystore(keystore, { remove: [], add: [{ alias: "Server", certificate: pki.der(ecRoot) }] }, PASSWORD, "app truststore", new Date()), /app truststore: alias "Server" is already taken/);
      });
    });
  }

  it("Debian's JVM cacerts (ca-certificates-java, JKS, password changeit): every entry keytool lists, and an unchanged rewrite is the same bytes", function () {
    keytoolPath = KEYTOOLS[0];
    const path = "/etc/ssl/certs/java/cacerts";
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      throw new Error(`${path} is missing: scripts/install-system-deps.sh installs ca-certificates-java`);
    }
    const keystore = readKeystore(bytes, "changeit", path);
    const seen = keytoolEntries(path, "changeit", keystore.type);
    assert.ok(seen.size > 100, `keytool lists ${seen.size} entries`);
    assert.deepEqual(new Map(keystore.entries.map((entry) => [entry.alias, sha256(entry.certificate!)])), new Map([...seen].map(([alias, { sha256: fingerprint }]) => [alias, fingerprint])));
    if (keystore.type === "JKS") assert.ok(rewriteKeystore(keystore, { remove: [], add: [] }, "changeit", path, new Date()).equals(bytes));
  });

  it("the type comes from the first bytes; JCEKS and anything else are refused with the way out", () => {
    assert.throws(() => keystoreTypeOf(Buffer.from("cececece00000002", "hex"), "old.jceks"), /old\.jceks: a JCEKS keystore; convert it to PKCS12/);
    assert.throws(() => keystoreTypeOf(Buffer.from("-----BEGIN"), "x.pem"), /x\.pem: neither a JKS nor a PKCS12 keystore/);
  });

  it("aliases come from the fingerprint: one subject, two roots, two aliases; a readable prefix; lower-case", () => {
    const first = aliasFor(pki.der(rsaRoot), "Contoso Java Root");
    const second = aliasFor(pki.der(renewed), "Contoso Java Root");
    assert.notEqual(first, second);
    assert.equal(first, `trusted-roots-contoso-java-root-${sha256(pki.der(rsaRoot))}`);
    assert.equal(aliasFor(pki.der(rsaRoot), "Ünïcode / Root!"), `trusted-roots-n-code-root-${sha256(pki.der(rsaRoot))}`);
  });
});
