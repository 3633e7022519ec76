import { strict as assert } from "node:assert";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ConfigMap, Stack } from "@pulumi/pulumi/automation";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseCertificates } from "../../components/certificates";
import { fleetFromStackConfig } from "../../components/program";
import { fetchRoots } from "../../components/sources";
import { WebServerTrust } from "../../components/WebServerTrust";
import { EngineProject, setStackConfig } from "../support/engine";
import { describeLab, Lab } from "../support/lab";
import { TestPki, type TestCertificate } from "../support/pki";

const POLICY_PACK = resolve(__dirname, "../../../policies");

describeLab("the policy pack under the real engine", function () {
  this.timeout(600_000);
  let lab: Lab;
  let project: EngineProject;
  let stack: Stack;
  const pki = new TestPki();
  let contoso: TestCertificate;
  let fabrikam: TestCertificate;

  const configFile = (name: string, content: object) => {
    const path = join(project.dir, name);
    writeFileSync(path, JSON.stringify(content, null, 2));
    return path;
  };
  const fleet = (rootSet: string): ConfigMap => {
    const host = lab.hosts[0];
    const values = {
      servers: [{ name: "web01", host: host.address, platform: "debian", hostKey: host.hostKey, groups: ["web"] }],
      rootSets: { contoso: { files: ["roots/contoso.pem"] }, fabrikam: { files: ["roots/fabrikam.pem"] } },
      groups: { web: { roots: [rootSet] } },
      defaults: { afterChange: { action: "restart", preset: "nginx" } },
    };
    return {
      ...Object.fromEntries(Object.entries(values).map(([key, value]) => [`trusted-roots:${key}`, { value: JSON.stringify(value) }])),
      "trusted-roots:privateKey": { value: lab.clientKey, secret: true },
    };
  };
  const requiredContoso = () => ({
    "required-roots": { requiredRoots: [{ thumbprint: parseCertificates(contoso.pem)[0].sha1, name: "Contoso Root CA G2" }] },
  });
  const anchors = () => lab.sh(lab.hosts[0], "ls /usr/local/share/ca-certificates");

  before(async () => {
    lab = await Lab.start(1);
    project = new EngineProject();
    contoso = pki.root("contoso", "/O=Contoso/CN=Contoso Root CA G2");
    fabrikam = pki.root("fabrikam", "/O=Fabrikam/CN=Fabrikam Root", { key: "ec256" });
    mkdirSync(join(project.dir, "roots"));
    writeFileSync(join(project.dir, "roots/contoso.pem"), contoso.pem);
    writeFileSync(join(project.dir, "roots/fabrikam.pem"), fabrikam.pem);
    stack = await project.stack("policies", async () => {
      const declared = await fleetFromStackConfig(project.dir);
      return { report: declared.report };
    });
  });

  after(async () => {
    await lab?.stop();
  });

  it("a stack that declares the required root passes preview with the pack; its SHA-1 name draws the advisory sha256-pins", async () => {
    await setStackConfig(stack, fleet("contoso"));
    const config = { ...requiredContoso(), "sha256-pins": requiredContoso()["required-roots"] };
    const preview = await stack.preview({ policyPacks: [POLICY_PACK], policyPackConfigs: [configFile("required.json", config)] });
    assert.match(preview.stdout, /Policies:[\s\S]*trusted-roots@v0\.1\.0/);
    assert.doesNotMatch(preview.stdout, /mandatory/);
    const sha256 = parseCertificates(contoso.pem)[0].sha256;
    assert.match(preview.stdout, new RegExp(`sha256-pins[\\s\\S]*the required root "Contoso Root CA G2" is named by its SHA-1 thumbprint [0-9A-F]{40}; name it by its SHA-256 instead: ${sha256}`));
  });

  it("a stack missing the required root is blocked: non-zero, names the server and the root, touches no host", async () => {
    await setStackConfig(stack, fleet("fabrikam"));
    const before = await anchors();
    await assert.rejects(stack.up({ policyPacks: [POLICY_PACK], policyPackConfigs: [configFile("required.json", requiredContoso())] }), (error: Error) => {
      assert.match(error.message, /required-roots/);
      assert.match(error.message, /web01 does not declare the required root "Contoso Root CA G2" \([0-9A-F]{40}\)/);
      assert.match(error.message, /mandatory/);
      return true;
    });
    assert.equal(await anchors(), before, "nothing was imported");
    assert.doesNotMatch(before, /trusted-roots-/);
  });

  it("a config file that makes the policy advisory lets the same stack pass, with a warning", async () => {
    const advisory = { "required-roots": { ...requiredContoso()["required-roots"], enforcementLevel: "advisory" } };
    const preview = await stack.preview({ policyPacks: [POLICY_PACK], policyPackConfigs: [configFile("advisory.json", advisory)] });
    assert.match(preview.stdout, /advisory[\s\S]*web01 does not declare the required root "Contoso Root CA G2"/);
  });

  describe("roots fetched from a URL", () => {
    let site: Server;
    let url: string;
    before(async () => {
      site = createServer((_request, response) => response.end(contoso.pem));
      await new Promise<void>((resolvePromise) => site.listen(0, "127.0.0.1", resolvePromise));
      url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/contoso.crt`;
    });
    after(() => site.close());

    it("a program that takes them unpinned (allowUnpinned) is blocked by pinned-sources; nothing reaches the host", async () => {
      const host = lab.hosts[0];
      const unpinned = await project.stack("unpinned", async () => {
        const { certificates } = await fetchRoots({ source: { kind: "url", url }, thumbprints: [], allowUnpinned: true });
        const server = new WebServerTrust("web01", { connection: { host: host.address, hostKey: host.hostKey, privateKey: lab.clientKey }, platform: "debian", roots: certificates });
        return { report: server.report };
      });
      const before = await anchors();
      await assert.rejects(unpinned.up({ policyPacks: [POLICY_PACK] }), (error: Error) => {
        assert.match(error.message, /pinned-sources/);
        assert.match(error.message, new RegExp(`web01.*roots entry CN=Contoso Root CA G2, O=Contoso .*was fetched from ${url.replace(/[.]/g, "\\.")} without a pinned thumbprint`));
        return true;
      });
      assert.equal(await anchors(), before, "nothing was imported");
    });

    it("a stack config whose source answers another root stops `up` before any resource, naming the key", async () => {
      const config = fleet("contoso");
      config["trusted-roots:rootSets"] = { value: JSON.stringify({ contoso: { url, thumbprints: [parseCertificates(fabrikam.pem)[0].sha256] } }) };
      const fetching = await project.stack("fetching", async () => ({ report: (await fleetFromStackConfig(project.dir)).report }));
      await setStackConfig(fetching, config);
      await assert.rejects(fetching.up(), (error: Error) => {
        assert.match(error.message, /trusted-roots:rootSets\.contoso\.url \(http:\/\/127\.0\.0\.1:\d+\/contoso\.crt\): no certificate it answered has the pinned thumbprint/);
        assert.match(error.message, /nothing was applied/);
        return true;
      });
      const declared = ((await fetching.exportStack()).deployment.resources ?? []) as { type: string }[];
      assert.deepEqual(declared.map((resource) => resource.type), ["pulumi:pulumi:Stack"], "no resource but the stack itself was declared");
    });
  });
});
