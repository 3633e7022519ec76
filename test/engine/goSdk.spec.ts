import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { EngineProject } from "../support/engine";
import { runGo } from "../support/go";
import { describeLab, Lab, type LabHost } from "../support/lab";
import { TestPki, type TestCertificate } from "../support/pki";

const REPO = resolve(__dirname, "../../..");

interface GoResult {
  report?: { server: string; status: string }[];
  changes?: Record<string, number>;
  error?: string;
}

// The generated Go SDK (sdk/go) end to end: a Go program with Pulumi's Go Automation API and an inline
// program (no language host needed) declares a TrustFleet of lab hosts through the trusted-roots plugin.
describeLab("the generated Go SDK through the plugin (Go Automation API, inline program)", function () {
  this.timeout(1_200_000);
  let lab: Lab;
  let engine: EngineProject;
  let binary: string;
  let configFile: string;
  let contoso: TestCertificate;
  let client: { cert: string; key: string };

  const step = async (name: string): Promise<GoResult> => {
    try {
      const { stdout } = await promisify(execFile)(binary, [configFile, name], { env: { ...process.env, ...engine.env }, maxBuffer: 64 * 1024 * 1024 });
      return JSON.parse(stdout.trim().split("\n").pop()!) as GoResult;
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string };
      assert.fail(`gofleet ${name} failed:\n${failed.stdout?.slice(-2000)}\n${failed.stderr?.slice(-3000)}`);
    }
  };
  const status = (host: LabHost, expected: number) => lab.settledHttpsStatus(host, client, expected);

  before(async () => {
    lab = await Lab.start(2);
    engine = new EngineProject();
    const pki = new TestPki();
    contoso = pki.root("contoso", "/O=Contoso/CN=Contoso Root CA G2");
    const issued = pki.issue("alice", "/CN=alice", contoso);
    client = { cert: readFileSync(issued.certPath, "utf8"), key: readFileSync(issued.keyPath, "utf8") };
    binary = join(engine.dir, "gofleet");
    await runGo(["build", "-o", binary, "."], join(REPO, "test/go"));
    const workDir = join(engine.dir, "go-project");
    mkdirSync(workDir);
    configFile = join(engine.dir, "gofleet.json");
    const hosts = lab.hosts.map((host) => ({ name: `go-${host.name}`, address: host.address, hostKey: host.hostKey }));
    // A file only root reads: the key never travels as an argument.
    writeFileSync(configFile, JSON.stringify({ workDir, backendUrl: `file://${engine.stateDir}`, stack: "go", privateKey: lab.clientKey, rootPem: contoso.pem, hosts }), { mode: 0o600 });
  });

  after(async () => {
    await lab?.stop();
  });

  it("up: the client certificate nginx rejected (400) is accepted (200) on both hosts", async () => {
    for (const host of lab.hosts) assert.equal(await lab.httpsStatus(host, client), 400, `${host.name} before`);
    const up = await step("up");
    assert.deepEqual(up.report?.map((entry) => [entry.server, entry.status]), [["go-h1", "changed"], ["go-h2", "changed"]]);
    for (const host of lab.hosts) assert.equal(await status(host, 200), 200, `${host.name} after up`);
  });

  it("drift (the root dropped on h2) is found by a refresh preview and repaired by up --refresh", async () => {
    await lab.sh(lab.hosts[1], "rm -f /usr/local/share/ca-certificates/trusted-roots-*.crt && update-ca-certificates --fresh >/dev/null 2>&1 && nginx -s reload");
    assert.equal(await status(lab.hosts[1], 400), 400);
    const preview = await step("preview-refresh");
    assert.ok((preview.changes?.update ?? 0) >= 1, `the preview shows the drift: ${JSON.stringify(preview.changes)}`);
    await step("up-refresh");
    assert.equal(await status(lab.hosts[1], 200), 200, "h2 repaired");
  });

  it("destroy removes the roots again (nginx, reloaded, rejects the client certificate)", async () => {
    await step("destroy");
    for (const host of lab.hosts) {
      assert.doesNotMatch(await lab.sh(host, "ls /usr/local/share/ca-certificates"), /trusted-roots-/);
      // A destroy changes no service: nginx reads the store again at its next reload.
      await lab.sh(host, "nginx -s reload");
      assert.equal(await status(host, 400), 400, host.name);
    }
  });
});
