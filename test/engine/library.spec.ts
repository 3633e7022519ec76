import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { parseCertificates } from "../../components/certificates";
import { ServiceRestart } from "../../components/resources/afterChange";
import { TrustStore } from "../../components/resources/trustStore";
import { toRootInputs } from "../../components/resources/trustStoreCore";
import { EngineProject } from "../support/engine";
import { describeLab, Lab } from "../support/lab";
import { TestPki } from "../support/pki";

// The exported resources used from another Pulumi program, the way a library user writes it: credentials as
// plain strings, no stack config, no pulumi.secret(). The state must still hold them only encrypted.
describeLab("the library's resources under the real engine, credentials given as plain strings", function () {
  this.timeout(600_000);
  let lab: Lab;
  let project: EngineProject;
  let stack: Stack;
  const pki = new TestPki();
  const root = pki.root("library", "/CN=Library Root", { key: "ec256" });
  const client = pki.issue("library-client", "/CN=library client", root);
  const clientKey = readFileSync(client.keyPath, "utf8");

  before(async () => {
    lab = await Lab.start(1);
    project = new EngineProject();
    const [host] = lab.hosts;
    stack = await project.stack("library", async () => {
      const connection = { host: host.address, hostKey: host.hostKey, user: "root", privateKey: lab.clientKey };
      const store = new TrustStore("library-root", { connection, platform: "debian", roots: toRootInputs(parseCertificates(root.pem)) });
      new ServiceRestart("library-reload", {
        connection,
        platform: "debian",
        preset: "nginx",
        revision: store.revision,
        changed: store.changed,
        healthCheck: {
          url: `https://${host.address}/`,
          clientCertificate: { cert: readFileSync(client.certPath, "utf8"), key: clientKey },
          caCertificate: lab.serverCa,
        },
      });
      return { changed: store.changed };
    });
  });

  after(async () => {
    await stack?.destroy().catch(() => undefined);
    await lab?.stop();
  });

  it("applies, and neither the SSH private key nor the client key is in the state in plaintext", async () => {
    const up = await stack.up();
    assert.equal(up.outputs.changed.value, true, "the store was really changed (so the resources really ran)");
    const state = readdirSync(project.stateDir, { recursive: true })
      .map(String)
      .filter((file) => file.endsWith(".json"))
      .map((file) => readFileSync(join(project.stateDir, file), "utf8"))
      .join("\n");
    assert.ok(state.includes("library-root"), "the state was read");
    for (const [what, secret] of [["SSH private key", lab.clientKey], ["health check client key", clientKey]]) {
      const line = secret.split("\n")[1];
      assert.ok(line.length > 40);
      assert.equal(state.includes(line), false, `the ${what} is in the state in plaintext`);
    }
  });
});
