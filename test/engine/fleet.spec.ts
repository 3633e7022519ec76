import { strict as assert } from "node:assert";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ConfigMap, Stack } from "@pulumi/pulumi/automation";
import { fleetFromStackConfig } from "../../components/program";
import { parseCertificates } from "../../components/certificates";
import { EngineProject, setStackConfig } from "../support/engine";
import { describeLab, Lab, type LabHost } from "../support/lab";
import { TestPki, type TestCertificate } from "../support/pki";

interface StateResource {
  type: string;
  urn: string;
  outputs?: Record<string, unknown>;
}

describeLab("the real Pulumi engine against lab hosts", function () {
  this.timeout(600_000);
  let lab: Lab;
  let project: EngineProject;
  let stack: Stack;
  const pki = new TestPki();
  let contoso: TestCertificate;
  let fabrikam: TestCertificate;
  let client: { cert: string; key: string };

  const program = async () => {
    const fleet = await fleetFromStackConfig(project.dir);
    return { report: fleet.report, waves: fleet.waves };
  };
  const server = (host: LabHost, extra: object = {}) => ({
    name: `web-${host.name}`,
    host: host.address,
    platform: "debian",
    hostKey: host.hostKey,
    groups: ["web"],
    ...extra,
  });
  const fleetConfig = (rootSet: string, servers: object[], extra: Record<string, unknown> = {}): ConfigMap => {
    const values: Record<string, unknown> = {
      servers,
      rootSets: { contoso: { files: ["roots/contoso.pem"] }, fabrikam: { files: ["roots/fabrikam.pem"] } },
      groups: { web: { roots: [rootSet] } },
      rollout: { batchSize: 2 },
      defaults: {
        afterChange: { action: "restart", preset: "nginx" },
        healthCheck: { url: "https://{host}/", clientCertificateFile: "roots/client.pem", caCertificateFile: "roots/server-ca.pem", expectStatus: rootSet === "contoso" ? 200 : 400, timeoutSeconds: 30 },
      },
      ...extra,
    };
    const config: ConfigMap = Object.fromEntries(Object.entries(values).map(([key, value]) => [`trusted-roots:${key}`, { value: JSON.stringify(value) }]));
    config["trusted-roots:privateKey"] = { value: lab.clientKey, secret: true };
    config["trusted-roots:healthClientKey"] = { value: client.key, secret: true };
    return config;
  };
  // Everything the engine printed, checked for secrets at the end.
  const engineOutput: string[] = [];
  const onOutput = (text: string) => engineOutput.push(text);
  const stateResources = async (target: Stack = stack) => ((await target.exportStack()).deployment.resources ?? []) as StateResource[];
  const outputsOf = async (name: string, target: Stack = stack) => (await stateResources(target)).find((resource) => resource.urn.endsWith(`::${name}`))?.outputs ?? {};
  // h1-h3 form the main fleet; h4 and h5 serve the stacks of the wave and retain tests.
  const fleetHosts = () => lab.hosts.slice(0, 3);
  const anchors = (host: LabHost) => lab.sh(host, "ls /usr/local/share/ca-certificates");

  before(async () => {
    lab = await Lab.start(5);
    project = new EngineProject();
    contoso = pki.root("contoso", "/O=Contoso/CN=Contoso Root CA G2");
    fabrikam = pki.root("fabrikam", "/O=Fabrikam/CN=Fabrikam Root", { key: "ec256" });
    const issued = pki.issue("alice", "/CN=alice", contoso);
    client = { cert: readFileSync(issued.certPath, "utf8"), key: readFileSync(issued.keyPath, "utf8") };
    mkdirSync(join(project.dir, "roots"));
    writeFileSync(join(project.dir, "roots/contoso.pem"), contoso.pem);
    writeFileSync(join(project.dir, "roots/fabrikam.pem"), fabrikam.pem);
    writeFileSync(join(project.dir, "roots/client.pem"), client.cert);
    writeFileSync(join(project.dir, "roots/server-ca.pem"), lab.serverCa);
    // h3 already trusts the root: nothing to change there, so no restart either.
    await lab.plantLocalAnchor(lab.hosts[2], "/usr/local/share/ca-certificates/contoso-by-hand.crt", contoso.pem);
    await lab.sh(lab.hosts[2], "nginx -s reload");
    stack = await project.stack("fleet", program);
    await setStackConfig(stack, fleetConfig("contoso", fleetHosts().map((host) => server(host))));
  });

  after(async () => {
    await lab?.stop();
  });

  it("up imports the root, restarts only where the store changed, and the health check passes", async () => {
    const result = await stack.up({ onOutput });
    assert.equal(result.summary.result, "succeeded");
    const report = result.outputs.report.value as { server: string; status: string }[];
    assert.deepEqual(report.map((entry) => [entry.server, entry.status]), [["web-h1", "changed"], ["web-h2", "changed"], ["web-h3", "in sync"]]);
    assert.deepEqual(result.outputs.waves.value, [["web-h1", "web-h2"], ["web-h3"]]);
    for (const [name, acted] of [["web-h1-restart", true], ["web-h2-restart", true], ["web-h3-restart", false]] as const) {
      const outputs = await outputsOf(name);
      assert.equal(outputs.acted, acted, name);
      if (acted) assert.equal(outputs.healthStatus, 200, `${name}: health check`);
    }
    for (const host of fleetHosts()) assert.equal(await lab.settledHttpsStatus(host, client, 200), 200, host.name);
  });

  it("a second preview expects no changes and finds none", async () => {
    const preview = await stack.preview({ expectNoChanges: true });
    assert.deepEqual(Object.keys(preview.changeSummary).filter((kind) => kind !== "same"), []);
  });

  it("drift (an OS update dropped the root on h2) fails preview --refresh --expect-no-changes, naming the host and root", async () => {
    const h2 = lab.hosts[1];
    await lab.sh(h2, `rm /usr/local/share/ca-certificates/trusted-roots-*.crt && update-ca-certificates --fresh >/dev/null`);
    await assert.rejects(stack.preview({ refresh: true, expectNoChanges: true, diff: true }), (error: Error) => {
      assert.match(error.message, /no changes were expected/);
      assert.match(error.message, /web-h2-root/);
      assert.match(error.message, new RegExp(`\\+ "?${parseCertificates(contoso.pem)[0].sha256}"?\\s*: \\{[\\s\\S]*?subject\\s*: "CN=Contoso Root CA G2, O=Contoso"`));
      assert.doesNotMatch(error.message, /web-h1-root.*\(update\)/);
      return true;
    });
    const refreshPreview = await stack.previewRefresh({ onOutput });
    assert.match(refreshPreview.stdout, /web-h2-root/);
    assert.equal(refreshPreview.changeSummary.update, 1, "only h2's store drifted");
  });

  it("up --refresh repairs only h2 and restarts only h2", async () => {
    // What a restart's last run left in the state: it changes only when the restart runs again.
    const lastRun = async (name: string) => {
      const { revision, acted, seconds } = await outputsOf(name);
      return { revision, acted, seconds };
    };
    const othersBefore = await Promise.all(["web-h1-restart", "web-h3-restart"].map(lastRun));
    const h2Before = await lastRun("web-h2-restart");
    const result = await stack.up({ refresh: true, onOutput });
    assert.equal(result.summary.resourceChanges?.update, 2, "h2's store and h2's restart");
    const h2After = await lastRun("web-h2-restart");
    assert.equal(h2After.acted, true);
    assert.notEqual(h2After.revision, h2Before.revision);
    assert.deepEqual(await Promise.all(["web-h1-restart", "web-h3-restart"].map(lastRun)), othersBefore);
    assert.match(await anchors(lab.hosts[1]), /trusted-roots-/);
    await stack.preview({ refresh: true, expectNoChanges: true });
  });

  /** The host's own store (not only nginx's memory) validates the client certificate, and nginx agrees after a reload. */
  const storeTrustsClient = async (host: LabHost) => {
    await lab.writeFile(host, "/tmp/client.pem", client.cert);
    assert.equal((await lab.sh(host, "openssl verify -CAfile /etc/ssl/certs/ca-certificates.crt /tmp/client.pem")).trim(), "/tmp/client.pem: OK");
    await lab.sh(host, "nginx -s reload");
    assert.equal(await lab.settledHttpsStatus(host, client, 200), 200, `${host.name} after an nginx reload`);
  };

  it("renaming a server (web-h1 -> web-01) replaces its resources and never strips its roots", async () => {
    const [h1, ...others] = fleetHosts();
    await setStackConfig(stack, fleetConfig("contoso", [server(h1, { name: "web-01" }), ...others.map((host) => server(host))]));
    const result = await stack.up({ onOutput });
    assert.equal(result.summary.resourceChanges?.create, 3, "web-01, its store and its restart");
    assert.equal(result.summary.resourceChanges?.delete, 3, "web-h1, its store and its restart");
    assert.equal((await outputsOf("web-01-restart")).acted, false, "the new store changed no trust: no restart");
    const manifest = JSON.parse(await lab.sh(h1, "cat /var/lib/trusted-roots/manifest.json")) as { roots: { owners: string[] }[] };
    // Each resource instance holds under `<owner>#<instance>`: the replaced store's delete took only its own hold.
    assert.deepEqual(manifest.roots.map((entry) => entry.owners.map((holder) => holder.replace(/#[0-9a-f]{8}$/, "#instance"))), [["trusted-roots/fleet/web-01-root#instance"]], "the old declaration released its hold");
    await storeTrustsClient(h1);
  });

  it("renaming with previousNames (web-01 -> web-one) is an update in place, and the roots stay", async () => {
    const [h1, ...others] = fleetHosts();
    await setStackConfig(stack, fleetConfig("contoso", [server(h1, { name: "web-one", previousNames: ["web-01"] }), ...others.map((host) => server(host))]));
    const result = await stack.up({ onOutput });
    assert.equal(result.summary.resourceChanges?.create ?? 0, 0, "nothing created");
    assert.equal(result.summary.resourceChanges?.delete ?? 0, 0, "nothing deleted");
    const manifest = JSON.parse(await lab.sh(h1, "cat /var/lib/trusted-roots/manifest.json")) as { roots: { owners: string[] }[] };
    assert.deepEqual(manifest.roots.map((entry) => entry.owners.map((holder) => holder.replace(/#[0-9a-f]{8}$/, "#instance"))), [["trusted-roots/fleet/web-one-root#instance"]], "the hold moved to the new name");
    await storeTrustsClient(h1);
  });

  it("exact mode: a root dropped from the config leaves every host, and the client certificate is rejected again", async () => {
    // No health check this time: h3 keeps trusting the root through its hand-made anchor (200 there).
    await setStackConfig(stack, 
      fleetConfig("fabrikam", fleetHosts().map((host, index) => server(host, index === 0 ? { name: "web-one" } : {})), {
        defaults: { afterChange: { action: "restart", preset: "nginx" } },
      }),
    );
    const result = await stack.up();
    assert.equal(result.summary.result, "succeeded");
    for (const host of fleetHosts().slice(0, 2)) {
      assert.equal(await lab.settledHttpsStatus(host, client, 400), 400, host.name);
      assert.doesNotMatch(await lab.sh(host, "cat /etc/ssl/certs/ca-certificates.crt"), new RegExp(contoso.pem.split("\n")[1]));
    }
    // h3's hand-made anchor is not this tool's: exact mode leaves it.
    assert.match(await anchors(lab.hosts[2]), /contoso-by-hand\.crt/);
  });

  it("the state and the engine's output hold no private key, client key or other secret in plaintext", async () => {
    const stateFiles = readdirSync(project.stateDir, { recursive: true }).map(String).filter((file) => file.endsWith(".json"));
    assert.ok(stateFiles.length > 0);
    const state = stateFiles.map((file) => readFileSync(join(project.stateDir, file), "utf8")).join("\n");
    const keyLine = lab.clientKey.split("\n")[2];
    assert.ok(keyLine.length > 40);
    assert.equal(state.includes(keyLine), false, "the SSH private key");
    assert.equal(state.includes(client.key.split("\n")[2]), false, "the health check's client key");
    assert.match(state, /"secure"|ciphertext/);
    const printed = engineOutput.join("");
    assert.ok(printed.length > 1000, "the engine's output was captured");
    for (const secret of [keyLine, client.key.split("\n")[2]]) assert.equal(printed.includes(secret), false, "a secret in the engine's output");
  });

  it("a wave that fails (a host that never comes back from reboot) leaves later waves untouched", async () => {
    const [canary, later] = lab.hosts.slice(3);
    const failing = await project.stack("waves", program);
    await setStackConfig(failing, 
      fleetConfig(
        "contoso",
        [
          server(canary, { afterChange: { action: "reboot", timeoutSeconds: 8, rebootCommand: "nohup sh -c 'sleep 1; ip link set eth0 down' >/dev/null 2>&1 &" } }),
          server(later),
        ],
        { rollout: { batchSize: 1 } },
      ),
    );
    const laterBefore = await anchors(later);
    try {
      await assert.rejects(failing.up(), /web-h4-reboot[\s\S]*did not come back with a new boot id within 8 s/);
    } finally {
      await lab.link(canary, "up");
    }
    const names = (await stateResources(failing)).map((resource) => resource.urn.slice(resource.urn.lastIndexOf("::") + 2));
    assert.ok(names.includes("web-h4-root"));
    assert.equal(names.some((name) => name.startsWith("web-h5-")), false, "no resource of the second wave exists");
    assert.equal(await anchors(later), laterBefore, "the second wave's host was not touched");
    await failing.destroy();
  });

  it("destroy removes the managed roots; retainOnDelete keeps them", async () => {
    const keep = await project.stack("keep", program);
    await setStackConfig(keep, fleetConfig("contoso", [server(lab.hosts[4])], { retainOnDelete: true }));
    await keep.up();
    await keep.destroy();
    assert.match(await anchors(lab.hosts[4]), /trusted-roots-/, "retained");
    await stack.destroy();
    for (const host of fleetHosts()) assert.doesNotMatch(await anchors(host), /trusted-roots-/, host.name);
  });
});
