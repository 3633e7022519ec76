import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fleetArgsFromConfig, FleetConfigError, parseFleetConfig } from "../../components/config/load";
import { readStackConfig } from "../../components/config/stackFile";
import { waves } from "../../components/rollout";

const EXAMPLES = resolve(__dirname, "../../../examples");
const readExample = (file: string) => readFileSync(join(EXAMPLES, file));
const secrets = { privateKey: "key", password: "password", healthClientKey: "client key" };

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof FleetConfigError) return error.problems;
    throw error;
  }
  assert.fail("expected a FleetConfigError");
}

describe("stack config", () => {
  for (const example of ["Pulumi.iis.yaml", "Pulumi.linux.yaml"]) {
    it(`examples/${example} validates and resolves every server's roots`, () => {
      const { values } = readStackConfig(readExample(example).toString("utf8"), example);
      const args = fleetArgsFromConfig(parseFleetConfig(values), secrets, readExample);
      assert.ok(args.servers.length >= 3);
      for (const server of args.servers) {
        assert.ok(server.roots.length >= 1, server.name);
        assert.ok(server.roots.every((root) => root.kind === "root"));
      }
    });
  }

  it("the IIS example puts Fabrikam's issuing CA in the CA store and distrusts the retired root", () => {
    const { values } = readStackConfig(readExample("Pulumi.iis.yaml").toString("utf8"), "Pulumi.iis.yaml");
    const [iis01] = fleetArgsFromConfig(parseFleetConfig(values), secrets, readExample).servers;
    assert.deepEqual(iis01.intermediates?.map((certificate) => certificate.commonName), ["Fabrikam Issuing CA 01"]);
    assert.deepEqual(iis01.distrusted?.map((certificate) => certificate.commonName), ["Contoso Retired Root 2015"]);
    assert.deepEqual(iis01.afterChange, { action: "reboot", timeoutSeconds: 900 });
  });

  it("reads secure keys as names only", () => {
    const { values, secureKeys } = readStackConfig("config:\n  trusted-roots:password:\n    secure: v1:abc\n  trusted-roots:mode: exact\n  aws:region: x\n", "Pulumi.x.yaml");
    assert.deepEqual([values, secureKeys], [{ mode: "exact" }, ["password"]]);
  });

  it("names every problem by its config key, with the fix", () => {
    const problems = problemsOf(() =>
      parseFleetConfig({
        servers: [{ name: "bad name!", host: "", platform: "solaris", hostKey: "nope" }],
        mode: "sometimes",
        rollout: { batchSize: 2, percent: 50 },
      }),
    );
    const text = problems.join("\n");
    assert.match(text, /trusted-roots:servers\[0\]\.name: use letters, digits/);
    assert.match(text, /trusted-roots:servers\[0\]\.host: /);
    assert.match(text, /trusted-roots:servers\[0\]\.platform: /);
    assert.match(text, /trusted-roots:servers\[0\]\.hostKey: host key "nope" is not/);
    assert.match(text, /trusted-roots:mode: /);
    assert.match(text, /trusted-roots:rollout\.batchSize: set batchSize or percent, not both/);
    assert.ok(problems.length >= 6);
  });

  it("collects reference problems: unknown sets and groups, missing files, wrong thumbprints, unpinned hosts, no credentials", () => {
    const config = parseFleetConfig({
      servers: [
        { name: "web01", host: "10.0.0.1", platform: "debian", groups: ["web", "ghost"], roots: ["nowhere"] },
        { name: "web02", host: "10.0.0.2", platform: "debian", hostKey: "SHA256:" + "A".repeat(43), groups: ["web"] },
      ],
      rootSets: {
        contoso: { files: ["roots/contoso-root-ca-g2.pem"], thumbprints: ["00".repeat(20)] },
        missing: { files: ["roots/absent.pem"] },
        chain: { files: ["roots/fabrikam-issuing-ca-01.pem"] },
      },
      groups: { web: { roots: ["contoso", "missing", "chain"] } },
    });
    const text = problemsOf(() => fleetArgsFromConfig(config, {}, readExample)).join("\n");
    assert.match(text, /trusted-roots:rootSets\.contoso\.thumbprints: no certificate in the set has thumbprint 0{40}/);
    assert.match(text, /trusted-roots:rootSets\.missing\.files\[0\].*roots\/absent\.pem/);
    assert.match(text, /trusted-roots:servers\[0\]\.groups: unknown group "ghost"/);
    assert.match(text, /trusted-roots:servers\[0\]\.roots: unknown root set "nowhere"/);
    assert.match(text, /trusted-roots:servers\[1\] \(web02\) roots: .*"CN=Fabrikam Issuing CA 01, O=Fabrikam".*is an intermediate CA/s);
    assert.match(text, /trusted-roots:servers\[0\]\.hostKey: web01 has no pinned host key; add hostKey \(ssh-keyscan -t ed25519 10\.0\.0\.1\)/);
    assert.match(text, /trusted-roots:privateKey: no credentials/);
  });
});

describe("rollout waves", () => {
  it("defaults to a quarter of the fleet per wave", () => {
    assert.deepEqual(waves(8), [[0, 1], [2, 3], [4, 5], [6, 7]]);
    assert.deepEqual(waves(3), [[0], [1], [2]]);
  });

  it("batch size, percent and a canary first wave", () => {
    assert.deepEqual(waves(5, { batchSize: 2 }), [[0, 1], [2, 3], [4]]);
    assert.deepEqual(waves(10, { percent: 50 }), [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]);
    assert.deepEqual(waves(5, { firstWave: 1, batchSize: 3 }), [[0], [1, 2, 3], [4]]);
    assert.deepEqual(waves(0), []);
  });
});
