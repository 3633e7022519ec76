import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { aliasFor } from "../../components/keystores";
import { assertSucceeded, EngineProject, runPulumi } from "../support/engine";
import { describeLab, Lab } from "../support/lab";
import { TestPki } from "../support/pki";
import { settledTomcatAnswer, startTomcat, tomcatAnswer } from "../support/tomcat";
import { trustedEntries } from "../support/keytool";

const REPO = resolve(__dirname, "../../..");
const TRUSTSTORE_PASSWORD = "tomcat-truststore-pass";
const JVM_CACERTS = "/etc/ssl/certs/java/cacerts";

/** The README's Java YAML program, pointed at a lab host and at this checkout's plugin. */
function javaProgramFromReadme(lab: Lab): { program: string; truststore: string } {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const program = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]).find((block) => block.includes("runtime: yaml") && block.includes("javaKeystores"));
  assert.ok(program, "the README has the Java YAML program");
  const truststore = /kind: file, path: (\S+) \}/.exec(program)?.[1];
  assert.ok(truststore, "the program declares an application truststore");
  const [host] = lab.hosts;
  const pointed = program
    .replace("host: 10.0.0.6", `host: ${host.address}`)
    .replace(/hostKey: "ssh-ed25519 AAAA\.\.\."/, `hostKey: "${host.hostKey}"`)
    .replace("runtime: yaml\n", `runtime: yaml\nplugins:\n  providers:\n    - name: trusted-roots\n      path: ${join(REPO, "bin")}\n`);
  assert.notEqual(pointed, program);
  return { program: pointed, truststore };
}

/**
 * The README's Java program with the plain `pulumi` CLI and the YAML language host: Tomcat 10 refuses the client
 * certificate until `pulumi up` puts the root into its truststore and restarts it; a root deleted from the
 * truststore is drift `preview --refresh` finds and `up --refresh` repairs; destroy takes out only its own entries.
 */
describeLab("Java stores through the engine: the README's YAML program against Tomcat", function () {
  this.timeout(900_000);
  let lab: Lab;
  let engine: EngineProject;
  let projectDir: string;
  let truststore: string;
  let contoso: Certificate;
  let admins: Certificate;
  let client: { cert: string; key: string };
  let jvmCacertsBefore: string;
  const pki = new TestPki();

  const pulumi = (args: string[]) => runPulumi(args, projectDir, engine.env);
  const ok = assertSucceeded;
  const host = () => lab.hosts[0];
  const trusted = async (path: string, password: string) => {
    return [...trustedEntries(await lab.exec(host(), "keytool", "-list", "-v", "-keystore", path, "-storepass", password)).keys()];
  };
  const ours = () => aliasFor(contoso.der, contoso.commonName);
  const sha256Of = async (path: string) => (await lab.exec(host(), "sha256sum", path)).split(" ")[0];

  before(async () => {
    lab = await Lab.start(1);
    const root = pki.root("contoso", "/O=Contoso/CN=Contoso Client CA");
    [contoso] = parseCertificates(root.pem);
    [admins] = parseCertificates(pki.root("admins", "/CN=Admin's Own Root").pem);
    const alice = pki.issue("alice", "/CN=alice", root);
    client = { cert: readFileSync(alice.certPath, "utf8"), key: readFileSync(alice.keyPath, "utf8") };

    engine = new EngineProject();
    process.env.PATH = engine.env.PATH;
    projectDir = join(engine.dir, "tomcat-fleet");
    mkdirSync(join(projectDir, "roots"), { recursive: true });
    writeFileSync(join(projectDir, "roots/contoso.pem"), root.pem);
    const fromReadme = javaProgramFromReadme(lab);
    truststore = fromReadme.truststore;
    writeFileSync(join(projectDir, "Pulumi.yaml"), fromReadme.program);

    await startTomcat(lab, host(), { path: truststore, password: TRUSTSTORE_PASSWORD, initialPem: admins.pem });
    // The lab's hosts share no JVM cacerts (their store is Debian's bundle alone): this one gets the machine's.
    await lab.sh(host(), "mkdir -p /etc/ssl/certs/java");
    await lab.writeFile(host(), JVM_CACERTS, readFileSync(JVM_CACERTS));
    jvmCacertsBefore = await sha256Of(JVM_CACERTS);

    ok(await pulumi(["stack", "init", "prod"]), "stack init");
    writeFileSync(join(engine.dir, "client_key"), lab.clientKey);
    const set = (key: string, file: string) => promisify(execFile)("sh", ["-c", `pulumi config set --secret ${key} < ${file}`], { cwd: projectDir, env: { ...process.env, ...engine.env } });
    await set("privateKey", join(engine.dir, "client_key"));
    writeFileSync(join(engine.dir, "truststore_password"), TRUSTSTORE_PASSWORD);
    await set("truststorePassword", join(engine.dir, "truststore_password"));
  });

  after(async () => {
    await lab?.stop();
  });

  it("before: Tomcat refuses alice's certificate; pulumi up puts the root into both keystores and restarts Tomcat, which then answers 200", async () => {
    assert.equal(typeof (await tomcatAnswer(lab, host(), client)), "string", "a refused handshake");
    const up = await pulumi(["up", "--yes"]);
    ok(up, "up");
    assert.match(up.stdout, /app01-java-[0-9a-f]{8}/);
    assert.deepEqual((await trusted(truststore, TRUSTSTORE_PASSWORD)).sort(), ["admins-root", ours()].sort());
    assert.ok((await trusted(JVM_CACERTS, "changeit")).includes(ours()));
    assert.equal(await settledTomcatAnswer(lab, host(), client), 200);
    const state = readFileSync(join(engine.stateDir, ".pulumi/stacks/tomcat-fleet/prod.json"), "utf8");
    assert.doesNotMatch(state, new RegExp(TRUSTSTORE_PASSWORD), "the truststore's password is a secret in the state");
    assert.equal((await pulumi(["preview", "--refresh", "--expect-no-changes"])).code, 0);
  });

  it("a JDK upgrade's fresh cacerts and a root deleted from the truststore are drift: preview --refresh --expect-no-changes exits 7 on those two stores alone; up --refresh repairs both and restarts Tomcat", async () => {
    await lab.writeFile(host(), JVM_CACERTS, readFileSync(JVM_CACERTS));
    await lab.exec(host(), "keytool", "-delete", "-alias", ours(), "-keystore", truststore, "-storepass", TRUSTSTORE_PASSWORD);
    const drift = await pulumi(["preview", "--refresh", "--expect-no-changes"]);
    assert.equal(drift.code, 7, drift.stdout.slice(-2000));
    const changed = drift.stdout.split("\n").filter((line) => /trusted-roots:index:TrustStore .*update/.test(line));
    assert.equal(changed.length, 2, drift.stdout.slice(-2000));
    assert.ok(changed.every((line) => /app01-java-[0-9a-f]{8}/.test(line)), "only the Java stores drifted");
    // Tomcat still trusts the root it loaded at start; the repair's restart makes the file what it serves from.
    const tomcatPid = async () => (await lab.exec(host(), "cat", "/run/trl-tomcat.pid")).trim();
    const pidBefore = await tomcatPid();
    ok(await pulumi(["up", "--refresh", "--yes"]), "repair");
    assert.notEqual(await tomcatPid(), pidBefore, "the store changed, so Tomcat was restarted");
    assert.ok((await trusted(truststore, TRUSTSTORE_PASSWORD)).includes(ours()));
    assert.ok((await trusted(JVM_CACERTS, "changeit")).includes(ours()));
    assert.equal(await settledTomcatAnswer(lab, host(), client), 200);
    assert.equal((await pulumi(["preview", "--refresh", "--expect-no-changes"])).code, 0);
  });

  it("destroy takes out only its own entries: the administrator's root stays, the JVM's cacerts is byte for byte what it was", async () => {
    ok(await pulumi(["destroy", "--yes"]), "destroy");
    assert.deepEqual(await trusted(truststore, TRUSTSTORE_PASSWORD), ["admins-root"]);
    assert.equal(await sha256Of(JVM_CACERTS), jvmCacertsBefore);
  });
});
