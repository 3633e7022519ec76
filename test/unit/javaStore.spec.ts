import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { aliasFor } from "../../components/keystores";
import { plan, type StoreMode } from "../../components/plan";
import { DEBIAN_LAYOUT } from "../../components/platforms/debian";
import { createJavaKeystorePlatform, javaManifestPath, type JavaKeystoreLocation } from "../../components/platforms/java";
import { createPosixPlatform, type PosixPlatform } from "../../components/platforms/posix";
import { ApplyError, applyWith, convergeWith, observeWith } from "../../components/store";
import { PLATFORMS } from "../../components/platforms";
import { CrashingShell } from "../support/modelHost";
import { assertGolden } from "../support/golden";
import { LocalShell } from "../support/localShell";
import { TestPki } from "../support/pki";
import { keytoolListing } from "../support/keytool";

// The real Java store scripts, run by a local sh against keystores in a scratch folder, and checked by the JDK's
// keytool: what is added and removed, what is never touched, a wrong password, a failed check, a crash.

const PASSWORD = "app-truststore-pass";
/** A plan that changes nothing but the manifest: enough to render an apply. */
const EMPTY_PLAN = {
  store: "Java" as const, imports: [], removals: [], distrusts: [], undistrusts: [], unchanged: [], foreign: [], released: [], withheld: [],
  manifest: { version: 3 as const, roots: [], distrusted: [] }, basis: "absent", manifestChanged: true,
};
const KEYTOOL = "/usr/lib/jvm/java-17-openjdk-amd64/bin/keytool";

function keytool(args: string[]): string {
  return execFileSync(KEYTOOL, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** keytool's view of a keystore: alias -> "trustedCertEntry sha256" or "PrivateKeyEntry". */
function listed(path: string, password: string): Map<string, string> {
  const listing = keytool(["-list", "-v", "-keystore", path, "-storepass", password]);
  return new Map(keytoolListing(listing).map(({ alias, type, sha256 }) => [alias, type === "trustedCertEntry" ? `trusted ${sha256}` : type]));
}

describe("Java keystores as trust stores: the real scripts on scratch keystores, checked by keytool", function () {
  this.timeout(300_000);
  const shell = new LocalShell();
  const pki = new TestPki();
  let dir: string;
  let family: PosixPlatform;
  let root: Certificate;
  let renewed: Certificate;
  let admins: Certificate;

  const certificate = (stem: string, subject: string, key?: "ec256") => parseCertificates(readFileSync(pki.root(stem, subject, key ? { key } : {}).certPath))[0];
  const own = (certificate: Certificate) => `trusted ${certificate.sha256}`;
  const aliasOf = (certificate: Certificate) => aliasFor(certificate.der, certificate.commonName);

  before(() => {
    root = certificate("java-root", "/CN=Contoso Java Root/O=Contoso", "ec256");
    // A renewal: the same subject, another key. Tools keyed by alias or subject keep the old one.
    renewed = certificate("java-renewed", "/CN=Contoso Java Root/O=Contoso", "ec256");
    admins = certificate("admins", "/CN=Admin's Own Root");
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "trusted-roots-java-"));
    family = createPosixPlatform({ ...DEBIAN_LAYOUT, stateDir: join(dir, "state") });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** An application truststore as keytool makes it: the administrator's root and a key pair beside it. */
  function appTruststore(type: "JKS" | "PKCS12"): string {
    const path = join(dir, "app", `truststore.${type.toLowerCase()}`);
    mkdirSync(join(dir, "app"), { recursive: true });
    writeFileSync(join(dir, "admins.crt"), admins.pem);
    keytool(["-importcert", "-noprompt", "-alias", "admins-root", "-file", join(dir, "admins.crt"), "-keystore", path, "-storetype", type, "-storepass", PASSWORD]);
    keytool(["-genkeypair", "-alias", "tomcat", "-keyalg", "EC", "-dname", "CN=tomcat", "-keystore", path, "-storetype", type, "-storepass", PASSWORD, "-keypass", PASSWORD]);
    chmodSync(path, 0o640);
    return path;
  }

  /** A JDK's home as a bundled JDK has it: bin/keytool and lib/security/cacerts (here a copy of Debian's). */
  function jdkHome(keytoolScript?: string): string {
    const home = join(dir, "jdk");
    mkdirSync(join(home, "lib", "security"), { recursive: true });
    mkdirSync(join(home, "bin"));
    copyFileSync("/etc/ssl/certs/java/cacerts", join(home, "lib", "security", "cacerts"));
    if (keytoolScript) {
      writeFileSync(join(home, "bin", "keytool"), keytoolScript);
      chmodSync(join(home, "bin", "keytool"), 0o755);
    } else symlinkSync(KEYTOOL, join(home, "bin", "keytool"));
    return home;
  }

  const javaStore = (location: JavaKeystoreLocation, password = PASSWORD) => createJavaKeystorePlatform(family, { location, password, label: "web1 java store" });
  const converge = (location: JavaKeystoreLocation, roots: Certificate[], mode: StoreMode = "exact", password = PASSWORD) =>
    convergeWith(shell, javaStore(location, password), "Java", { roots, owner: "stack/web1-java" }, mode);

  it("each family's program is constant text (golden for Debian), valid sh, and the keystore and password travel only as data", () => {
    for (const name of ["debian", "rhel", "suse", "alpine", "arch"] as const) {
      const java = createJavaKeystorePlatform(PLATFORMS[name] as PosixPlatform, { location: { kind: "file", path: "/opt/it's here/$(x).p12" }, password: "pa'ss$(word)", label: "golden" });
      const observe = java.observeScript("Java").stdin;
      const plan = { ...EMPTY_PLAN, keystore: { path: "/opt/x.p12", realPath: "/opt/x.p12", type: "PKCS12" as const, digest: "absent", entries: [] } };
      const apply = java.applyScript(plan).stdin;
      for (const script of [observe, apply]) {
        execFileSync("sh", ["-n"], { input: script });
        const program = script.replace(/TRUSTED_ROOTS_PLAN='[^']*'\n/, "");
        assert.doesNotMatch(program, /it's here|\$\(x\)|pa'ss|\$\(word\)/, "nothing declared is program text");
      }
      if (name === "debian") {
        assertGolden("java", "debian-observe.sh", observe.replace(/TRUSTED_ROOTS_PLAN='[^']*'\n/, "TRUSTED_ROOTS_PLAN='<data>'\n"));
        assertGolden("java", "debian-apply.sh", apply.replace(/TRUSTED_ROOTS_PLAN='[^']*'\n/, "TRUSTED_ROOTS_PLAN='<data>'\n"));
      }
    }
  });

  for (const type of ["JKS", "PKCS12"] as const) {
    it(`${type} application truststore: adds under a fingerprint alias, keeps the administrator's root and the key, replaces a renewal, purges only when asked`, async () => {
      const path = appTruststore(type);
      const location: JavaKeystoreLocation = { kind: "file", path };
      const first = await converge(location, [root]);
      assert.equal(first.changed, true);
      assert.deepEqual(listed(path, PASSWORD), new Map([["admins-root", own(admins)], ["tomcat", "PrivateKeyEntry"], [aliasOf(root), own(root)]]));
      assert.equal((readFileSync(path).length > 0 && (execFileSync("stat", ["-c", "%a", path], { encoding: "utf8" }).trim())), "640", "the file keeps its mode");
      assert.deepEqual(first.after.manifest.roots.map((entry) => [entry.sha256, entry.store, entry.owners]), [[root.sha256, "Java", ["stack/web1-java"]]]);

      const again = await converge(location, [root]);
      assert.equal(again.changed, false, "in sync: nothing runs");

      const renewal = await converge(location, [renewed]);
      assert.deepEqual(renewal.plan.imports.map((entry) => entry.sha256), [renewed.sha256]);
      assert.deepEqual(renewal.plan.removals.map((entry) => entry.sha256), [root.sha256]);
      assert.deepEqual(listed(path, PASSWORD), new Map([["admins-root", own(admins)], ["tomcat", "PrivateKeyEntry"], [aliasOf(renewed), own(renewed)]]));

      const purge = await converge(location, [renewed], "purgeUnmanaged");
      assert.deepEqual(purge.plan.removals.map((entry) => entry.subject), [admins.subject]);
      assert.deepEqual(listed(path, PASSWORD), new Map([["tomcat", "PrivateKeyEntry"], [aliasOf(renewed), own(renewed)]]), "the key entry is never a root to purge");
    });
  }

  it("a missing application truststore is made (PKCS12 unless declared), readable by the JVM with the password", async () => {
    const path = join(dir, "new", "client-cas.p12");
    await converge({ kind: "file", path }, [root]);
    assert.deepEqual(listed(path, PASSWORD), new Map([[aliasOf(root), own(root)]]));
    assert.match(keytool(["-list", "-keystore", path, "-storepass", PASSWORD]), /Keystore type: PKCS12/);
  });

  it("a truststore path is data: quotes, $(...) and backticks in it are a file name, nothing runs", async () => {
    const hostile = join(dir, "it's $(touch pwned) `touch pwned2`", "trust store.p12");
    await converge({ kind: "file", path: hostile }, [root]);
    assert.deepEqual(listed(hostile, PASSWORD), new Map([[aliasOf(root), own(root)]]));
    assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith("pwned")), []);
    assert.equal(existsSync("pwned") || existsSync("pwned2"), false);
  });

  it("a wrong password is refused at observation, naming the store and the fix; the keystore is untouched", async () => {
    const path = appTruststore("PKCS12");
    const before = readFileSync(path);
    await assert.rejects(converge({ kind: "file", path }, [root], "exact", "not-the-password"), (error: Error) => {
      assert.match(error.message, /^web1 java store \(.*truststore\.pkcs12\): the keystore's integrity check failed: the password is wrong/);
      return true;
    });
    assert.ok(readFileSync(path).equals(before));
    assert.equal(existsSync(javaManifestPath(family.layout, { kind: "file", path })), false);
  });

  it("a JDK's cacerts: its roots are the system's, never removed (purgeUnmanaged included); a JDK update that drops ours is repaired", async () => {
    const home = jdkHome();
    const cacerts = join(home, "lib", "security", "cacerts");
    const shipped = listed(cacerts, "changeit");
    const location: JavaKeystoreLocation = { kind: "jdk", javaHome: home };
    const applied = await converge(location, [root], "purgeUnmanaged", "changeit");
    assert.deepEqual(applied.plan.removals, [], "a JDK's own roots are never removed");
    assert.deepEqual(listed(cacerts, "changeit"), new Map([...shipped, [aliasOf(root), own(root)]]));

    // The update ships a fresh cacerts without our root: drift, and the next apply puts it back.
    copyFileSync("/etc/ssl/certs/java/cacerts", cacerts);
    const drifted = await observeWith(shell, javaStore(location, "changeit"), "Java");
    assert.equal(drifted.roots.some((held) => held.sha256 === root.sha256), false);
    assert.deepEqual(plan({ roots: [root], owner: "stack/web1-java" }, drifted, "exact").imports.map((entry) => entry.sha256), [root.sha256]);
    const repaired = await converge(location, [root], "exact", "changeit");
    assert.equal(repaired.changed, true);
    assert.equal(listed(cacerts, "changeit").get(aliasOf(root)), own(root));
  });

  /** Observes the `jvm` keystore with the session's JAVA_HOME set to `home` (or unset). */
  async function observeJvm(home: string | undefined) {
    const saved = process.env.JAVA_HOME;
    if (home === undefined) delete process.env.JAVA_HOME;
    else process.env.JAVA_HOME = home;
    try {
      return await observeWith(shell, javaStore({ kind: "jvm" }, "changeit"), "Java");
    } finally {
      if (saved === undefined) delete process.env.JAVA_HOME;
      else process.env.JAVA_HOME = saved;
    }
  }

  it("the JVM of the session's JAVA_HOME, where one is set and holds a java, comes before the java on PATH", async () => {
    const home = jdkHome();
    writeFileSync(join(home, "bin", "java"), "#!/bin/sh\n");
    chmodSync(join(home, "bin", "java"), 0o755);
    assert.equal((await observeJvm(`${home}/`)).keystore?.path, `${home}/lib/security/cacerts`);
    // A JAVA_HOME without a java in it is no JDK: the PATH decides.
    assert.equal((await observeJvm(dir)).keystore?.realPath, "/etc/ssl/certs/java/cacerts");
  });

  it("the JVM on PATH is found through its links; Debian's cacerts, derived by ca-certificates-java, is named as such: roots kept only there do not last", async () => {
    const observed = await observeJvm(undefined);
    assert.equal(observed.keystore?.path, `${execFileSync("readlink", ["-f", "/usr/bin/java"], { encoding: "utf8" }).trim().replace(/\/bin\/java$/, "")}/lib/security/cacerts`);
    assert.equal(observed.keystore?.realPath, "/etc/ssl/certs/java/cacerts");
    assert.ok(observed.roots.length > 100 && observed.roots.every((held) => held.origin === "system"));
    assert.ok(observed.warnings.some((warning) => /derived from the OS trust store by ca-certificates-java/.test(warning)), observed.warnings.join("\n"));
  });

  it("one JVM per apply, however many roots: keytool runs once, to check the rewritten keystore", async () => {
    const calls = join(dir, "keytool-calls");
    const home = jdkHome(`#!/bin/sh\necho "$*" >> '${calls}'\nexec '${KEYTOOL}' "$@"\n`);
    const many = ["one", "two", "three", "four", "five"].map((name) => certificate(`many-${name}`, `/CN=Root ${name}`));
    const applied = await converge({ kind: "jdk", javaHome: home }, many, "exact", "changeit");
    assert.equal(applied.plan.imports.length, 5);
    assert.deepEqual(readFileSync(calls, "utf8").trim().split("\n").map((line) => line.split(" ")[0]), ["-list"], "one keytool run, the check");
    assert.equal((await observeWith(shell, javaStore({ kind: "jdk", javaHome: home }, "changeit"), "Java")).roots.filter((held) => held.origin === "managed").length, 5);
  });

  it("when the JVM's own check fails, the keystore and the manifest go back as they were", async () => {
    const home = jdkHome("#!/bin/sh\necho 'keytool error: java.io.IOException: simulated' >&2\nexit 1\n");
    const cacerts = join(home, "lib", "security", "cacerts");
    const before = readFileSync(cacerts);
    const location: JavaKeystoreLocation = { kind: "jdk", javaHome: home };
    await assert.rejects(converge(location, [root], "exact", "changeit"), (error: Error) => {
      assert.ok(error instanceof ApplyError);
      assert.equal(error.step, "verify");
      assert.equal(error.rolledBack, true);
      assert.match(error.message, /simulated/);
      return true;
    });
    assert.ok(readFileSync(cacerts).equals(before));
    assert.equal(existsSync(javaManifestPath(family.layout, location)), false);
    assert.deepEqual(readdirSync(join(dir, "state", "java")).filter((name) => name.startsWith("txn.")), []);
  });

  it("a crash between the keystore and the manifest is rolled back by the next apply, which then converges", async () => {
    const path = appTruststore("JKS");
    const before = readFileSync(path);
    const location: JavaKeystoreLocation = { kind: "file", path };
    const store = javaStore(location);
    const observed = await observeWith(shell, store, "Java");
    await assert.rejects(applyWith(new CrashingShell(1), store, plan({ roots: [root], owner: "stack/web1-java" }, observed, "exact")));
    assert.ok(!readFileSync(path).equals(before), "the crash left the new keystore without its manifest");
    const after = await converge(location, [root]);
    assert.equal(after.changed, true);
    assert.deepEqual(listed(path, PASSWORD), new Map([["admins-root", own(admins)], ["tomcat", "PrivateKeyEntry"], [aliasOf(root), own(root)]]));
    assert.deepEqual(after.after.manifest.roots.map((entry) => entry.sha256), [root.sha256]);
  });
});
