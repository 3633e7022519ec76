import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { parseCertificates } from "../../components/certificates";
import { assertSucceeded, EngineProject, runPulumi } from "../support/engine";
import { describeLab, Lab, type LabHost } from "../support/lab";
import { TestPki, type TestCertificate } from "../support/pki";
import { LocalPostgres } from "../support/postgres";
import { waitUntil } from "../support/wait";

const REPO = resolve(__dirname, "../../..");
const ANCHORS = "/usr/local/share/ca-certificates";

interface ExportedResource {
  type: string;
  urn: string;
  outputs?: { revision?: string; connection?: unknown; roots?: Record<string, unknown>; observed?: { managed: { sha256: string }[] } };
}

/**
 * A team's setup: one PostgreSQL database as Pulumi's DIY backend, two sites (projects) whose fleets share a host,
 * rolled out by plain `pulumi up` at the same time, as two operators or two pipelines would.
 */
describeLab("a team's shared state backend (PostgreSQL): several sites at once, with plain pulumi commands", function () {
  this.timeout(900_000);
  let lab: Lab;
  let postgres: LocalPostgres;
  let engine: EngineProject;
  const pki = new TestPki();
  const roots: Record<string, TestCertificate> = {};
  const fingerprint = (name: string) => parseCertificates(roots[name].pem)[0].sha256;
  const siteDir = (site: string) => join(engine.dir, site);

  /** Site A: h1 and h2; site B: h2 and h3. Each declares its own roots; h2 must end with both sites' roots. */
  const sites: Record<string, { hosts: () => LabHost[]; roots: string[] }> = {
    "site-a": { hosts: () => [lab.hosts[0], lab.hosts[1]], roots: ["alpha"] },
    "site-b": { hosts: () => [lab.hosts[1], lab.hosts[2]], roots: ["bravo"] },
  };

  const writeProgram = (site: string, rootNames: string[]) => {
    const servers = sites[site]
      .hosts()
      .map(
        (host) => `        - name: ${host.name}
          connection: { host: ${host.address}, hostKey: "${host.hostKey}", privateKey: "\${privateKey}" }
          platform: debian
          roots: [${rootNames.map((name) => `"\${${name}}"`).join(", ")}]
          afterChange: { action: none }`,
      )
      .join("\n");
    writeFileSync(
      join(siteDir(site), "Pulumi.yaml"),
      `name: ${site}
runtime: yaml
plugins:
  providers:
    - name: trusted-roots
      path: ${join(REPO, "bin")}
config: { privateKey: { type: string, secret: true } }
variables:
${rootNames.map((name) => `  ${name}: { fn::readFile: ./roots/${name}.pem }`).join("\n")}
resources:
  fleet:
    type: trusted-roots:index:TrustFleet
    properties:
      servers:
${servers}
outputs: { report: "\${fleet.report}" }
`,
    );
  };

  /** Plain `pulumi` in a site's folder, logged in to the shared database. */
  const pulumi = (site: string, args: string[]) => runPulumi(args, siteDir(site), { ...engine.env, PULUMI_BACKEND_URL: postgres.url });
  const ok = assertSucceeded;
  const managedOn = async (host: LabHost) =>
    (await lab.sh(host, `ls ${ANCHORS}`))
      .split("\n")
      .map((file) => /^trusted-roots-([0-9a-f]{64})\.crt$/.exec(file)?.[1]?.toUpperCase())
      .filter((sha256): sha256 is string => sha256 !== undefined)
      .sort();
  const union = (host: LabHost) =>
    Object.values(sites)
      .filter((site) => site.hosts().includes(host))
      .flatMap((site) => site.roots.map(fingerprint))
      .sort();

  before(async () => {
    lab = await Lab.start(3);
    postgres = await LocalPostgres.start();
    engine = new EngineProject();
    process.env.PATH = engine.env.PATH;
    for (const name of ["alpha", "bravo", "charlie"]) roots[name] = pki.root(name, `/O=Team/CN=${name} Root CA`);
    writeFileSync(join(engine.dir, "client_key"), lab.clientKey);
    for (const [site, { roots: declared }] of Object.entries(sites)) {
      mkdirSync(join(siteDir(site), "roots"), { recursive: true });
      for (const name of Object.keys(roots)) writeFileSync(join(siteDir(site), "roots", `${name}.pem`), roots[name].pem);
      writeProgram(site, declared);
      ok(await pulumi(site, ["stack", "init", "prod"]), `${site}: stack init`);
      const env = { ...process.env, ...engine.env, PULUMI_BACKEND_URL: postgres.url };
      await promisify(execFile)("sh", ["-c", `pulumi config set --secret privateKey < ${join(engine.dir, "client_key")}`], { cwd: siteDir(site), env });
    }
  });

  after(async () => {
    await lab?.stop();
    postgres?.stop();
  });

  it("two sites' pulumi up at the same time against one database: every host ends with exactly the union of its declarations", async () => {
    const [first, second] = await Promise.all(Object.keys(sites).map((site) => pulumi(site, ["up", "--yes"])));
    ok(first, "site-a: up");
    ok(second, "site-b: up");
    for (const host of lab.hosts) assert.deepEqual(await managedOn(host), union(host), host.name);
    // Both states live in the database, one row per stack (no file backend anywhere).
    const stateRows = postgres.keys("%.pulumi/stacks/%.json").map((key) => key.slice(key.indexOf(".pulumi/")));
    assert.deepEqual(stateRows.sort(), [".pulumi/stacks/site-a/prod.json", ".pulumi/stacks/site-b/prod.json"]);
  });

  it("each site's state is consistent: every store with its host's revision and roots, and a refresh finds nothing to change", async () => {
    for (const [site, { hosts, roots: declared }] of Object.entries(sites)) {
      const exported = JSON.parse((await pulumi(site, ["stack", "export"])).stdout) as { deployment: { resources: ExportedResource[] } };
      const stores = exported.deployment.resources.filter((resource) => resource.type === "trusted-roots:index:TrustStore");
      assert.deepEqual(stores.map((store) => store.urn.split("::").pop()).sort(), hosts().map((host) => `${host.name}-root`).sort(), `${site}: one store per host`);
      for (const store of stores) {
        assert.match(store.outputs?.revision ?? "", /^[0-9a-f]{16}$/, `${store.urn}: a revision`);
        assert.deepEqual(Object.keys(store.outputs?.roots ?? {}).sort(), declared.map(fingerprint).sort(), `${store.urn}: its own roots, not the other site's`);
      }
      const report = JSON.parse((await pulumi(site, ["stack", "output", "report", "--json"])).stdout) as { server: string; revision: string }[];
      assert.deepEqual(report.map((entry) => entry.server).sort(), hosts().map((host) => host.name).sort());
      ok(await pulumi(site, ["preview", "--refresh", "--expect-no-changes"]), `${site}: refresh preview`);
    }
  });

  it("a second up of the same stack while one runs is refused by the backend's lock, and leaves nothing half-done", async () => {
    const h1 = lab.hosts[0];
    // Site A adds a root; its apply on h1 announces its refresh and waits for the test, so the first up is
    // certainly running when the second starts, on any machine.
    sites["site-a"].roots = ["alpha", "charlie"];
    writeProgram("site-a", sites["site-a"].roots);
    await lab.sh(h1, "rm -f /run/trl-lab/refresh-started /run/trl-lab/release && mkfifo /run/trl-lab/release");
    await lab.writeFile(h1, "/usr/local/sbin/update-ca-certificates", '#!/bin/sh\n: > /run/trl-lab/refresh-started\nread go < /run/trl-lab/release\nexec /usr/sbin/update-ca-certificates "$@"\n', "755");
    try {
      const running = pulumi("site-a", ["up", "--yes"]);
      await waitUntil(async () => (await lab.sh(h1, "test -e /run/trl-lab/refresh-started && echo started || true")).trim() === "started", "the first up reached h1's refresh");
      assert.equal(postgres.keys("%.pulumi/locks/%").length, 1, "the running up holds the stack's lock in the database");
      const refused = await pulumi("site-a", ["up", "--yes"]);
      assert.notEqual(refused.code, 0, "the second up must not run");
      assert.match(refused.stdout + refused.stderr, /locked/i);
      await lab.sh(h1, "echo go > /run/trl-lab/release");
      ok(await running, "site-a: the first up");
    } finally {
      await lab.exec(h1, "rm", "-f", "/usr/local/sbin/update-ca-certificates");
    }
    assert.deepEqual(postgres.keys("%.pulumi/locks/%"), [], "the lock is released");
    for (const host of lab.hosts) assert.deepEqual(await managedOn(host), union(host), host.name);
    for (const site of Object.keys(sites)) ok(await pulumi(site, ["preview", "--refresh", "--expect-no-changes"]), `${site}: refresh preview after the refused up`);
  });

  it("destroying one site leaves the other's roots on the shared host", async () => {
    ok(await pulumi("site-a", ["destroy", "--yes"]), "site-a: destroy");
    delete sites["site-a"];
    for (const host of lab.hosts) assert.deepEqual(await managedOn(host), union(host), host.name);
    ok(await pulumi("site-b", ["preview", "--refresh", "--expect-no-changes"]), "site-b: refresh preview");
  });
});
