import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { parseCertificates } from "../../components/certificates";
import { assertSucceeded, EngineProject, runPulumi } from "../support/engine";
import { describeLab, Lab } from "../support/lab";
import { TestPki, type TestCertificate } from "../support/pki";

const REPO = resolve(__dirname, "../../..");
const POLICY_PACK = join(REPO, "policies");

/**
 * The README's YAML program, pointed at the lab: its host and key replaced, the plugin taken from this
 * checkout, and its one server doubled into two (web02 on the second host) so waves and drift on one host show.
 */
function fromReadme(lab: Lab): string {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const program = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]).find((block) => block.includes("runtime: yaml"));
  assert.ok(program, "the README has a YAML program");
  const [first, second] = lab.hosts;
  const pointed = program
    .replace("host: 10.0.0.5", `host: ${first.address}`)
    .replace(/hostKey: "ssh-ed25519 AAAA\.\.\."/, `hostKey: "${first.hostKey}"`)
    .replace("runtime: yaml\n", `runtime: yaml\nplugins:\n  providers:\n    - name: trusted-roots\n      path: ${join(REPO, "bin")}\n`);
  const lines = pointed.split("\n");
  const start = lines.findIndex((line) => line.trim() === "- name: web01");
  const end = lines.findIndex((line, index) => index > start && !line.startsWith(" ".repeat(10)));
  const web02 = lines
    .slice(start, end)
    .map((line) => line.replace("web01", "web02").replace(first.address, second.address).replace(first.hostKey, second.hostKey));
  const result = [...lines.slice(0, end), ...web02, ...lines.slice(end)].join("\n");
  assert.notEqual(result, program);
  return result;
}

/**
 * A YAML program declaring a fleet through the provider plugin, driven by the plain `pulumi` CLI and the real
 * YAML language host: no Automation API, no inline program. What a user of any Pulumi language runs.
 */
describeLab("a YAML program through the provider plugin, with plain pulumi commands", function () {
  this.timeout(900_000);
  let lab: Lab;
  let engine: EngineProject;
  let projectDir: string;
  const pki = new TestPki();
  let contoso: TestCertificate;

  const pulumi = (args: string[], cwd = projectDir, env: Record<string, string> = {}) => runPulumi(args, cwd, { ...engine.env, ...env });
  const ok = assertSucceeded;
  const anchors = (index: number) => lab.sh(lab.hosts[index], "ls /usr/local/share/ca-certificates");
  const sha256 = () => parseCertificates(contoso.pem)[0].sha256.toLowerCase();

  before(async () => {
    lab = await Lab.start(2);
    engine = new EngineProject();
    process.env.PATH = engine.env.PATH;
    projectDir = join(engine.dir, "fleet");
    mkdirSync(join(projectDir, "roots"), { recursive: true });
    contoso = pki.root("contoso", "/O=Contoso/CN=Contoso Root CA G2");
    writeFileSync(join(projectDir, "roots/contoso.pem"), contoso.pem);
    writeFileSync(join(projectDir, "Pulumi.yaml"), fromReadme(lab));
    ok(await pulumi(["stack", "init", "prod"]), "stack init");
    writeFileSync(join(engine.dir, "client_key"), lab.clientKey);
    const set = await promisify(execFile)("sh", ["-c", `pulumi config set --secret privateKey < ${join(engine.dir, "client_key")}`], { cwd: projectDir, env: { ...process.env, ...engine.env } });
    assert.equal(set.stderr.trim(), "");
  });

  after(async () => {
    await lab?.stop();
  });

  it("pulumi up imports the root on both hosts, in waves, and exports each server's revision", async () => {
    ok(await pulumi(["up", "--yes"]), "up");
    for (const index of [0, 1]) assert.match(await anchors(index), new RegExp(`trusted-roots-${sha256()}\\.crt`));
    const report = JSON.parse((await pulumi(["stack", "output", "report", "--json"])).stdout) as { server: string; status: string; revision: string }[];
    assert.deepEqual(report.map((entry) => [entry.server, entry.status]), [["web01", "changed"], ["web02", "changed"]]);
    assert.ok(report.every((entry) => /^[0-9a-f]{16}$/.test(entry.revision)));
    const state = readFileSync(join(engine.stateDir, ".pulumi/stacks/fleet/prod.json"), "utf8");
    assert.doesNotMatch(state, /BEGIN OPENSSH PRIVATE KEY/, "the key is a secret in the state");
    assert.doesNotMatch(state, /__provider|pulumi-nodejs:dynamic/, "nothing of an implementation is in the state");
    assert.equal(await pulumi(["preview", "--expect-no-changes"]).then((result) => result.code), 0);
  });

  it("drift (the root lost on web02) makes preview --refresh --expect-no-changes exit 7, naming the root; up --refresh repairs it", async () => {
    await lab.sh(lab.hosts[1], "rm -f /usr/local/share/ca-certificates/trusted-roots-*.crt && update-ca-certificates --fresh >/dev/null 2>&1");
    const drift = await pulumi(["preview", "--refresh", "--expect-no-changes", "--diff"]);
    assert.equal(drift.code, 7, drift.stdout.slice(-2000));
    // The roots map is keyed by SHA-256; --diff shows the added entry with its subject.
    assert.match(drift.stdout, new RegExp(`\\+ "?${parseCertificates(contoso.pem)[0].sha256}"?\\s*: \\{[\\s\\S]*?subject\\s*: "CN=Contoso Root CA G2, O=Contoso"`));
    assert.match(drift.stdout, /web02-root/);
    assert.doesNotMatch(drift.stdout, /web01-root[^\n]*\(update\)/, "web01 is in sync");
    ok(await pulumi(["up", "--refresh", "--yes"]), "repair");
    assert.match(await anchors(1), new RegExp(`trusted-roots-${sha256()}\\.crt`));
    assert.equal((await pulumi(["preview", "--refresh", "--expect-no-changes"])).code, 0);
  });

  it("pulumi import reads an existing store by its id alone (credentials and host key from the environment), changing nothing", async () => {
    const knownHosts = join(engine.dir, "known_hosts");
    writeFileSync(knownHosts, `${lab.hosts[0].address} ${lab.hosts[0].hostKey}\n`);
    const before = await anchors(0);
    const id = `root@${lab.hosts[0].address}:22/debian/Root`;
    process.env.TRUSTED_ROOTS_KNOWN_HOSTS = knownHosts;
    process.env.TRUSTED_ROOTS_PRIVATE_KEY_FILE = join(engine.dir, "client_key");
    try {
      const imported = await pulumi(["import", "trusted-roots:index:TrustStore", "adopted-web01", id, "--yes", "--generate-code=false", "--protect=false"]);
      ok(imported, "import");
    } finally {
      delete process.env.TRUSTED_ROOTS_KNOWN_HOSTS;
      delete process.env.TRUSTED_ROOTS_PRIVATE_KEY_FILE;
    }
    const state = JSON.parse((await pulumi(["stack", "export"])).stdout) as { deployment: { resources: { urn: string; id?: string; inputs?: { roots?: Record<string, { pem: string }> } }[] } };
    const adopted = state.deployment.resources.find((resource) => resource.urn.endsWith("::adopted-web01"));
    assert.equal(adopted?.id, id);
    const declared = parseCertificates(contoso.pem)[0];
    assert.deepEqual(Object.keys(adopted?.inputs?.roots ?? {}), [declared.sha256]);
    assert.equal(adopted?.inputs?.roots?.[declared.sha256].pem, declared.pem, "the PEM read from the host");
    assert.equal(await anchors(0), before, "an import changes nothing on the host");
    ok(await pulumi(["state", "delete", adopted!.urn, "--yes"]), "forget the adopted store again");
  });

  it("the policy pack runs through --policy-pack: a missing required root is a mandatory violation and nothing changes", async () => {
    const config = join(engine.dir, "policy.json");
    const required = (thumbprint: string) => writeFileSync(config, JSON.stringify({ "required-roots": { requiredRoots: [{ thumbprint, name: "Fabrikam Root" }] } }));
    required("AB".repeat(20));
    const blocked = await pulumi(["preview", "--policy-pack", POLICY_PACK, "--policy-pack-config", config]);
    assert.notEqual(blocked.code, 0);
    assert.match(blocked.stdout + blocked.stderr, /required-roots[\s\S]*mandatory|mandatory[\s\S]*required-roots/);
    assert.match(blocked.stdout + blocked.stderr, /web01 does not declare the required root "Fabrikam Root"/);
    required(parseCertificates(contoso.pem)[0].sha1);
    ok(await pulumi(["preview", "--policy-pack", POLICY_PACK, "--policy-pack-config", config]), "preview with the pack satisfied");
  });

  it("the packed plugin installs with pulumi plugin install --file and serves a program that names no plugin path", async () => {
    const archive = join(engine.dir, "plugin.tgz");
    await promisify(execFile)("bash", [join(REPO, "scripts/pack-plugin.sh"), archive], { maxBuffer: 16 * 1024 * 1024 });
    const home = join(engine.dir, "fresh-home");
    // Only the toolchain on PATH (not this checkout's bin/), ambient plugins ignored: the cache is the only source.
    const isolated = { PULUMI_HOME: home, PATH: engine.env.PATH.split(":").filter((dir) => dir !== join(REPO, "bin")).join(":"), PULUMI_IGNORE_AMBIENT_PLUGINS: "true" };
    const run = (args: string[], cwd: string) => pulumi(args, cwd, isolated);
    const version = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;
    ok(await run(["plugin", "install", "resource", "trusted-roots", version, "--file", archive], engine.dir), "plugin install");
    const plain = join(engine.dir, "plain");
    mkdirSync(join(plain, "roots"), { recursive: true });
    writeFileSync(join(plain, "roots/contoso.pem"), contoso.pem);
    writeFileSync(
      join(plain, "Pulumi.yaml"),
      readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")
        .split("\n")
        .filter((line) => !/^(plugins:|\s+providers:|\s+- name: trusted-roots|\s+path: )/.test(line))
        .join("\n")
        .replace("name: fleet", "name: plain-fleet"),
    );
    assert.doesNotMatch(readFileSync(join(plain, "Pulumi.yaml"), "utf8"), /plugins:/);
    ok(await run(["stack", "init", "check"], plain), "stack init");
    ok(await run(["config", "set", "--secret", "privateKey", "not-used-by-a-preview"], plain), "config");
    const preview = await run(["preview"], plain);
    ok(preview, "preview with the installed plugin");
    assert.match(preview.stdout, /\+ +trusted-roots:index:TrustStore +web01-root +create/);
  });

  it("fn::invoke fetchRoots (the README's snippet) brings the pinned root from a URL into the program; a wrong pin fails the preview", async () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const snippet = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]).find((block) => block.includes("fn::invoke"));
    assert.ok(snippet, "the README has the fetchRoots snippet");
    const site = createServer((_request, response) => response.end(contoso.pem));
    await new Promise<void>((resolvePromise) => site.listen(0, "127.0.0.1", resolvePromise));
    try {
      const url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/contoso-root.crt`;
      const program = (pin: string) =>
        readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")
          .replace("name: fleet", "name: fetched-fleet")
          .replace(/^variables: .*$/m, snippet.trimEnd().replace("http://pki.contoso.com/CertEnroll/contoso-root.crt", url).replace("2E8C709B...", pin))
          .replaceAll('roots: ["${contoso}"]', 'roots: "${contoso}"');
      const fetched = join(engine.dir, "fetched");
      mkdirSync(fetched, { recursive: true });
      writeFileSync(join(fetched, "Pulumi.yaml"), program(parseCertificates(contoso.pem)[0].sha256));
      assert.match(readFileSync(join(fetched, "Pulumi.yaml"), "utf8"), /fn::invoke/);
      ok(await pulumi(["stack", "init", "fetch"], fetched), "stack init");
      ok(await pulumi(["config", "set", "--secret", "privateKey", "not-used-by-a-preview"], fetched), "config");
      const preview = await pulumi(["preview", "--diff"], fetched);
      ok(preview, "preview with a fetched root");
      assert.match(preview.stdout, /\+ +trusted-roots:index:TrustStore: \(create\)[\s\S]*Contoso Root CA G2/);
      writeFileSync(join(fetched, "Pulumi.yaml"), program("AB".repeat(32)));
      const wrong = await pulumi(["preview"], fetched);
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stdout + wrong.stderr, /no certificate it answered has the pinned thumbprint ABAB/);
      assert.doesNotMatch(wrong.stdout, /\+ +trusted-roots:index:TrustStore/, "nothing is declared");
    } finally {
      site.close();
    }
  });

  it("destroy works after the project folder moved (nothing in the state names where the code was), and removes the roots", async () => {
    const moved = `${projectDir}-moved`;
    renameSync(projectDir, moved);
    projectDir = moved;
    // The CLI remembers the selected stack per project path, so a moved project names its stack.
    ok(await pulumi(["destroy", "--yes", "--stack", "prod"]), "destroy");
    for (const index of [0, 1]) assert.doesNotMatch(await anchors(index), /trusted-roots-/);
  });
});
