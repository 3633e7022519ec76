import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import * as current from "../../components";
import { EngineProject } from "../support/engine";
import { describeLab, Lab } from "../support/lab";
import { TestPki } from "../support/pki";

const REPO = resolve(__dirname, "../../..");
/** The last version whose resources were dynamic (0.1): its own sources, from this repository's history. */
const LEGACY_COMMIT = "d3f2c26";

/**
 * A stack written by 0.1 (dynamic resources, implementation loaded by path) moves to the provider plugin's
 * resources on the next `up`: aliases carry each resource over in place, with the same id, nothing replaced,
 * and the host keeps its roots.
 */
describeLab("upgrade: a 0.1 state (dynamic resources) moves to the plugin's resources in place", function () {
  this.timeout(900_000);
  let lab: Lab;
  let engine: EngineProject;
  let stack: Stack;
  let legacy: typeof current;
  const pki = new TestPki();
  const rootPem = pki.root("upgrade", "/O=Contoso/CN=Contoso Upgrade Root").pem;
  let program: () => Promise<Record<string, unknown>>;

  const fleet = (library: typeof current) => {
    const servers = lab.hosts.map((host, index) => ({
      name: `web0${index + 1}`,
      connection: lab.connection(host),
      platform: "debian" as const,
      roots: library.parseCertificates(rootPem),
      afterChange: { action: "restart" as const, preset: "nginx" as const },
    }));
    const declared = new library.TrustFleet("web", { servers, rollout: { batchSize: 1 } });
    return { report: declared.report };
  };
  const anchors = () => Promise.all(lab.hosts.map((host) => lab.sh(host, "ls /usr/local/share/ca-certificates")));

  before(async () => {
    lab = await Lab.start(2);
    engine = new EngineProject();
    // 0.1's sources as they were, compiled against this checkout's node_modules.
    const old = mkdtempSync(join(tmpdir(), "trusted-roots-0.1-"));
    execFileSync("sh", ["-c", `git -C "${REPO}" archive ${LEGACY_COMMIT} | tar -x -C "${old}"`]);
    symlinkSync(join(REPO, "node_modules"), join(old, "node_modules"));
    mkdirSync(join(old, "dist"));
    execFileSync(join(REPO, "node_modules/.bin/tsc"), ["-p", join(old, "tsconfig.json")], { stdio: "inherit" });
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the old version, loaded by path on purpose
    legacy = require(join(old, "dist/components"));
    program = async () => fleet(legacy);
    stack = await engine.stack("upgrade", () => program());
  });

  after(async () => {
    await lab?.stop();
  });

  it("0.1 writes its state with dynamic resources and imports the root", async () => {
    await stack.up();
    const types = ((await stack.exportStack()).deployment.resources as { type: string }[]).map((resource) => resource.type);
    assert.ok(types.includes("pulumi-nodejs:dynamic/trusted-roots:TrustStore"), types.join(", "));
    assert.ok(types.includes("pulumi-nodejs:dynamic/trusted-roots:WaveGate"));
    for (const listing of await anchors()) assert.match(listing, /trusted-roots-[0-9a-f]{64}\.crt/);
  });

  it("the current version previews no create and no delete, then moves every resource, keeping ids and roots", async () => {
    const before = (await stack.exportStack()).deployment.resources as { type: string; urn: string; id?: string }[];
    const idsBefore = new Map(before.filter((resource) => resource.id).map((resource) => [resource.urn.split("::").pop(), resource.id]));
    program = async () => fleet(current);
    const preview = await stack.preview({ diff: true });
    const summary = preview.changeSummary as Record<string, number>;
    assert.equal(summary.create ?? 0, 0, JSON.stringify(summary));
    assert.equal(summary.delete ?? 0, 0, JSON.stringify(summary));
    assert.equal(summary.replace ?? 0, 0, JSON.stringify(summary));
    await stack.up();
    const after = (await stack.exportStack()).deployment.resources as { type: string; urn: string; id?: string; inputs?: object; outputs?: object }[];
    assert.deepEqual(after.filter((resource) => resource.type.startsWith("pulumi-nodejs:")).map((resource) => resource.type), []);
    assert.ok(after.some((resource) => resource.type === current.TRUST_STORE_TYPE));
    for (const resource of after.filter((entry) => entry.id && entry.type.startsWith("trusted-roots:"))) {
      const name = resource.urn.split("::").pop();
      if (idsBefore.has(name)) assert.equal(resource.id, idsBefore.get(name), `${name} kept its id`);
    }
    assert.doesNotMatch(JSON.stringify(after.map((resource) => resource.inputs)), /__provider/, "no implementation path in the inputs any more");
    for (const listing of await anchors()) assert.match(listing, /trusted-roots-[0-9a-f]{64}\.crt/);
    await stack.preview({ expectNoChanges: true });
  });
});
