import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCertificates, type Certificate } from "../../components/certificates";
import type { ScanReport } from "../../components/scan/report";
import { converge } from "../../components/store";
import { runCli } from "../support/cli";
import { describeLab, Lab, type LabHost, onLabSubnet } from "../support/lab";
import { TestPki } from "../support/pki";
import { waitUntil } from "../support/wait";

describeLab("trusted-roots scan against lab hosts", function () {
  this.timeout(180_000);
  let lab: Lab;
  let dir: string;
  let contoso: Certificate;
  const env = () => ({ TRUSTED_ROOTS_PRIVATE_KEY_FILE: join(lab.dir, "client_key") });
  const inventory = (hosts: LabHost[], overrides: Record<string, object> = {}) => {
    const path = join(dir, "inventory.yaml");
    const servers = hosts.map((host) => ({ name: host.name, host: host.address, platform: "debian", hostKey: host.hostKey, groups: ["web"], ...(overrides[host.name] ?? {}) }));
    writeFileSync(path, JSON.stringify({ servers, rootSets: { contoso: { files: ["contoso.crt"] } }, groups: { web: { roots: ["contoso"] } } }));
    return path;
  };
  const scanJson = async (path: string, extra: string[] = []) => {
    const result = await runCli(["scan", "--inventory", path, "--json", ...extra], env(), dir);
    return { ...result, report: JSON.parse(result.stdout) as ScanReport };
  };
  const accepted = async (host: LabHost) => Number((await lab.sh(host, "grep -c 'Accepted publickey' /var/log/trl-sshd.log || true")).trim());

  before(async () => {
    lab = await Lab.start(3);
    dir = mkdtempSync(join(tmpdir(), "trusted-roots-scan-"));
    const root = new TestPki(dir).root("contoso", "/O=Contoso/CN=Contoso Root CA G2");
    [contoso] = parseCertificates(root.pem);
    for (const host of lab.hosts) {
      await converge({ connection: lab.connection(host), platform: "debian" }, { roots: [contoso] }, "exact");
    }
  });

  after(async () => {
    await lab?.stop();
  });

  it("an in-sync fleet exits 0, with one SSH session per host", async () => {
    const before = await Promise.all(lab.hosts.map(accepted));
    const result = await runCli(["scan", "--inventory", inventory(lab.hosts)], env(), dir);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^SERVER\s+HOST\s+STATUS\s+FINDINGS$/m);
    assert.equal(result.stdout.match(/^h\d\s+\S+\s+in sync$/gm)?.length, 3);
    assert.match(result.stdout, /3 hosts: 3 in sync, 0 with drift, 0 unreachable/);
    assert.equal(result.stdout.includes("\x1b["), false, "no colour when stdout is not a terminal");
    assert.deepEqual(await Promise.all(lab.hosts.map(accepted)), before.map((count) => count + 1));
  });

  it("drift on one host exits 2, and the JSON and JUnit name the host and the root", async () => {
    const h2 = lab.hosts[1];
    await lab.sh(h2, "rm /usr/local/share/ca-certificates/trusted-roots-*.crt && update-ca-certificates --fresh >/dev/null");
    const junit = join(dir, "scan.xml");
    const { code, report } = await scanJson(inventory(lab.hosts), ["--junit", junit]);
    assert.equal(code, 2);
    assert.equal(report.exitCode, 2);
    assert.deepEqual(report.summary, { ...report.summary, hosts: 3, inSync: 2, drift: 1, unreachable: 0 });
    const drifted = report.hosts.find((host) => host.status === "drift")!;
    assert.deepEqual([drifted.name, drifted.host, drifted.missing.map((root) => root.sha256)], ["h2", h2.address, [contoso.sha256]]);
    const xml = readFileSync(junit, "utf8");
    assert.match(xml, /<testsuites name="trusted-roots scan" tests="3" failures="1" errors="0"/);
    assert.match(xml, onLabSubnet(/<testcase classname="trusted-roots\.debian" name="h2 \(10\.213\.0\.12\)" time="[\d.]+"><failure type="missing" message="missing on h2">missing: CN=Contoso Root CA G2, O=Contoso \(SHA-1 [0-9A-F]{40}\)<\/failure>/, lab));
    assert.match(xml, onLabSubnet(/name="h1 \(10\.213\.0\.11\)" time="[\d.]+"><\/testcase>/, lab));
    await converge({ connection: lab.connection(h2), platform: "debian" }, { roots: [contoso] }, "exact");
  });

  it("two shards (one CI runner each) scan every host once; merged, they report and exit as the whole fleet's scan", async () => {
    const h2 = lab.hosts[1];
    await lab.sh(h2, "rm /usr/local/share/ca-certificates/trusted-roots-*.crt && update-ca-certificates --fresh >/dev/null");
    const path = inventory(lab.hosts);
    const whole = await scanJson(path);
    const shards = await Promise.all(["1/2", "2/2"].map((shard) => scanJson(path, ["--shard", shard])));
    const scanned = shards.map(({ report }) => report.hosts.map((host) => host.name).sort());
    assert.deepEqual(scanned.flat().sort(), ["h1", "h2", "h3"], "every host in exactly one shard");
    const files = shards.map(({ stdout }, index) => {
      const file = join(dir, `shard-${index + 1}.json`);
      writeFileSync(file, stdout);
      return file;
    });
    const junit = join(dir, "merged.xml");
    const merged = await runCli(["merge", "--json", "--junit", junit, ...files], env(), dir);
    const report = JSON.parse(merged.stdout) as ScanReport;
    assert.equal(merged.code, whole.code, merged.stderr);
    assert.equal(whole.code, 2);
    assert.deepEqual({ ...report.summary, durationMs: 0 }, { ...whole.report.summary, durationMs: 0 });
    assert.deepEqual(report.hosts.map((host) => [host.name, host.status]).sort(), whole.report.hosts.map((host) => [host.name, host.status]).sort());
    assert.match(readFileSync(junit, "utf8"), /<testsuites name="trusted-roots scan" tests="3" failures="1" errors="0"/);
    await converge({ connection: lab.connection(h2), platform: "debian" }, { roots: [contoso] }, "exact");
  });

  it("a host that is down exits 3 with the reason; --fail-on decides whether that fails the run", async () => {
    const h3 = lab.hosts[2];
    await lab.exec(h3, "pkill", "-x", "sshd");
    try {
      const { code, report } = await scanJson(inventory(lab.hosts));
      assert.equal(code, 3);
      const down = report.hosts.find((host) => host.name === "h3")!;
      assert.equal(down.status, "unreachable");
      assert.match(down.reason!, /^unreachable: ECONNREFUSED/);
      assert.equal((await scanJson(inventory(lab.hosts), ["--fail-on", "unreachable,missing"])).code, 3);
      const ignoringDown = await scanJson(inventory(lab.hosts), ["--fail-on", "missing"]);
      assert.equal(ignoringDown.code, 0, "--fail-on without unreachable");
    } finally {
      await lab.reboot(h3);
      await waitUntil(async () => (await runCli(["scan", "--inventory", inventory([h3])], env(), dir)).code === 0, `${h3.name} scans clean after its reboot`);
    }
  });

  it("a wrong pinned key is reported as a mismatch and never connected past", async () => {
    const [h1, h2] = lab.hosts;
    const authLines = () => lab.sh(h1, "grep -c 'Accepted\\|Failed' /var/log/trl-sshd.log || true");
    const before = await authLines();
    const { code, report } = await scanJson(inventory(lab.hosts, { h1: { hostKey: h2.hostKey } }));
    assert.equal(code, 3);
    const mismatch = report.hosts.find((host) => host.name === "h1")!;
    assert.match(mismatch.reason!, /^host key mismatch: the server presented SHA256:\S+ but SHA256:\S+ is pinned; nothing was sent/);
    assert.equal(await authLines(), before);
  });

  it("foreign roots are informational unless --fail-on foreign", async () => {
    const h1 = lab.hosts[0];
    const other = new TestPki(dir).root("other", "/CN=Someone Else Root", { key: "ec256" });
    await lab.plantLocalAnchor(h1, "/usr/local/share/ca-certificates/someone-else.crt", other.pem);
    const informational = await scanJson(inventory(lab.hosts));
    assert.equal(informational.code, 0);
    assert.deepEqual(informational.report.hosts[0].foreign.map((root) => [root.subject, root.origin]), [["CN=Someone Else Root", "local"]]);
    assert.equal((await scanJson(inventory(lab.hosts), ["--fail-on", "foreign"])).code, 2);
  });

  it("bad input: exit 1 with the problem named", async () => {
    const missing = await runCli(["scan", "--inventory", join(dir, "nope.yaml")], env(), dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--inventory: .*nope\.yaml does not exist/);
    writeFileSync(join(dir, "bad.yaml"), "servers:\n  - name: x\n    host: ''\n    platform: plan9\n");
    const invalid = await runCli(["scan", "--inventory", join(dir, "bad.yaml")], env(), dir);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /trusted-roots:servers\[0\]\.host: [\s\S]*trusted-roots:servers\[0\]\.platform: /);
    const flags = await runCli(["scan", "--inventory", inventory(lab.hosts), "--fail-on", "everything"], env(), dir);
    assert.equal(flags.code, 1);
    assert.match(flags.stderr, /--fail-on: unknown finding "everything"/);
    const noKey = await runCli(["scan", "--inventory", inventory(lab.hosts)], { TRUSTED_ROOTS_PRIVATE_KEY_FILE: "", SSH_AUTH_SOCK: "" }, dir);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /no credentials/);
  });
});
