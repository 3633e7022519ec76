import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fleetArgsFromConfig, FleetConfigError, parseFleetConfig, type FleetSecrets as FleetSecretsInput } from "../../components/config/load";
import { readStackConfig } from "../../components/config/stackFile";
import { waves } from "../../components/rollout";
import { parseCertificates } from "../../components/certificates";
import { TestPki } from "../support/pki";

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
  describe("unknown keys are errors that name the key and the nearest valid one", () => {
    const server = { name: "web01", host: "10.0.0.5", platform: "debian", hostKey: "SHA256:" + "A".repeat(43) };
    const cases: [string, Record<string, unknown>, string][] = [
      ["a top-level typo that would have selected the destructive default", { servers: [server], mdoe: "additive" }, "trusted-roots:mdoe: unknown key; did you mean mode?"],
      ["another case", { servers: [server], RootSets: {} }, "trusted-roots:RootSets: unknown key; did you mean rootSets?"],
      ["a secret key's typo", { servers: [server], privatekey: "x" }, "trusted-roots:privatekey: unknown key; did you mean privateKey?"],
      ["in a server", { servers: [{ ...server, hostkey: server.hostKey }] }, "trusted-roots:servers[0].hostkey: unknown key; did you mean hostKey?"],
      ["in a server's afterChange", { servers: [{ ...server, afterChange: { action: "reboot", timeoutSecond: 60 } }] }, "trusted-roots:servers[0].afterChange.timeoutSecond: unknown key; did you mean timeoutSeconds?"],
      ["a server key in another spelling", { servers: [{ ...server, afterchange: { action: "none" } }] }, "trusted-roots:servers[0].afterchange: unknown key; did you mean afterChange?"],
      ["in a root set", { servers: [server], rootSets: { a: { files: ["a.pem"], thumbprint: ["x"] } } }, "trusted-roots:rootSets.a.thumbprint: unknown key; did you mean thumbprints?"],
      ["in a group", { servers: [server], groups: { web: { root: ["a"] } } }, "trusted-roots:groups.web.root: unknown key; did you mean roots?"],
      ["in the rollout", { servers: [server], rollout: { batchsize: 2 } }, "trusted-roots:rollout.batchsize: unknown key; did you mean batchSize?"],
      ["in a health check", { servers: [{ ...server, healthCheck: { url: "https://x/", expectedStatus: 200 } }] }, "trusted-roots:servers[0].healthCheck.expectedStatus: unknown key; did you mean expectStatus?"],
      ["far from every key", { servers: [server], zzzzzzzzzz: 1 }, "trusted-roots:zzzzzzzzzz: unknown key; valid keys here: servers, inventory, rootSets, groups, mode, rollout, defaults, retainOnDelete, privateKey, passphrase, password, privateKeys, healthClientKey, bastionPrivateKey, ldapPassword, proxyCredentials, javaKeystorePassword"],
    ];
    for (const [what, config, expected] of cases) {
      it(what, () => assert.deepEqual(problemsOf(() => parseFleetConfig(config)), [expected]));
    }

    it("an empty configuration names what to declare", () => {
      for (const empty of [undefined, null, "", []]) {
        assert.deepEqual(problemsOf(() => parseFleetConfig(empty)), ["trusted-roots: the configuration is empty or not a set of keys; declare at least trusted-roots:servers"]);
      }
      assert.deepEqual(problemsOf(() => parseFleetConfig({})), [
        "trusted-roots:servers: declare at least one server, in trusted-roots:servers or in a file named by trusted-roots:inventory",
      ]);
    });
  });

  describe("servers from an inventory file (trusted-roots:inventory)", () => {
    const base = { rootSets: { contoso: { files: ["roots/contoso-root-ca-g2.pem"] } }, groups: { web: { roots: ["contoso"] } } };
    const hostKey = "SHA256:" + "A".repeat(43);
    const withFiles = (files: Record<string, string>) => (path: string) => (path in files ? Buffer.from(files[path]) : readExample(path));

    it("adds its servers, YAML or JSON, a list or { servers: [...] }, to the config's", () => {
      const config = { ...base, inventory: "fleet.yaml", servers: [{ name: "web00", host: "10.0.0.4", platform: "debian", hostKey, groups: ["web"] }] };
      const yaml = withFiles({ "fleet.yaml": `servers:\n  - { name: web01, host: 10.0.0.5, platform: debian, hostKey: "${hostKey}", groups: [web] }\n` });
      assert.deepEqual(fleetArgsFromConfig(parseFleetConfig(config), secrets, yaml).servers.map((server) => server.name), ["web00", "web01"]);
      const list = withFiles({ "fleet.yaml": JSON.stringify([{ name: "web02", host: "10.0.0.6", platform: "debian", hostKey, groups: ["web"] }]) });
      assert.deepEqual(fleetArgsFromConfig(parseFleetConfig({ ...config, servers: [] }), secrets, list).servers.map((server) => server.name), ["web02"]);
    });

    it("a 5,000-server fleet: the stack config stays four short keys, the servers come from the file", () => {
      const servers = Array.from({ length: 5000 }, (_, index) => ({ name: `web${index}`, host: `10.${index >> 16}.${(index >> 8) & 255}.${index & 255}`, platform: "debian", hostKey, groups: ["web"] }));
      const config = { ...base, inventory: "fleet.json" };
      // What `pulumi config set-all` would have to pass on one command line (E2BIG with servers inline).
      assert.ok(JSON.stringify(config).length < 200);
      const loaded = fleetArgsFromConfig(parseFleetConfig(config), secrets, withFiles({ "fleet.json": JSON.stringify({ servers }) })).servers;
      assert.equal(loaded.length, 5000);
      assert.equal(loaded[4999].name, "web4999");
    });

    it("names the file and the key of every problem", () => {
      const config = parseFleetConfig({ ...base, inventory: "fleet.yaml" });
      const typo = withFiles({ "fleet.yaml": `- { name: web01, host: 10.0.0.5, platfrom: debian, hostKey: "${hostKey}" }\n` });
      assert.ok(
        problemsOf(() => fleetArgsFromConfig(config, secrets, typo)).includes("trusted-roots:inventory (fleet.yaml) servers[0].platfrom: unknown key; did you mean platform?"),
      );
      assert.deepEqual(problemsOf(() => fleetArgsFromConfig(config, secrets, withFiles({}))), ["trusted-roots:inventory (fleet.yaml): no such file"]);
      assert.deepEqual(problemsOf(() => fleetArgsFromConfig(config, secrets, withFiles({ "fleet.yaml": "42" }))), [
        "trusted-roots:inventory (fleet.yaml) (the file): expected a list of servers or { servers: [...] }",
      ]);
    });
  });

  for (const example of ["Pulumi.iis.yaml", "Pulumi.linux.yaml"]) {
    it(`examples/${example} validates and resolves every server's roots`, () => {
      const { values } = readStackConfig(readExample(example).toString("utf8"), example);
      const args = fleetArgsFromConfig(parseFleetConfig(values), secrets, readExample);
      assert.ok(args.servers.length >= 3);
      for (const server of args.servers) {
        assert.ok(server.roots.length >= 1, server.name);
        assert.ok(server.roots.every((root) => root.kind === "root"));
        assert.deepEqual(server.intermediates?.map((certificate) => certificate.commonName), ["Fabrikam Issuing CA 01"], `${server.name}: its issuing CA`);
      }
    });
  }

  it("the Java example gives each server its keystores and the truststores' secret password; without the secret it names the key to set", () => {
    const { values } = readStackConfig(readExample("Pulumi.java.yaml").toString("utf8"), "Pulumi.java.yaml");
    const config = parseFleetConfig(values);
    const [app01, app02] = fleetArgsFromConfig(config, { ...secrets, javaKeystorePassword: "truststore secret" }, readExample).servers;
    assert.deepEqual(app01.javaKeystores, [{ kind: "file", path: "/etc/tomcat10/client-cas.p12" }, { kind: "jvm" }]);
    assert.equal(app01.javaKeystorePassword, "truststore secret");
    assert.deepEqual(app01.afterChange, { action: "restart", preset: "tomcat" });
    assert.deepEqual([app02.javaKeystores, app02.javaKeystorePassword], [[{ kind: "jdk", javaHome: "/opt/billing/jdk-17" }], undefined], "a cacerts needs no truststore password");
    assert.deepEqual(problemsOf(() => fleetArgsFromConfig(config, secrets, readExample)), [
      "trusted-roots:javaKeystorePassword: app-01 declares the truststore /etc/tomcat10/client-cas.p12 but its password is not set (pulumi config set --secret trusted-roots:javaKeystorePassword)",
    ]);
    const windows = (javaKeystores: unknown[]) => parseFleetConfig({ ...values, servers: [{ name: "iis", host: "10.0.0.1", platform: "windows", insecureSkipHostKeyCheck: true, javaKeystores }] });
    assert.deepEqual(fleetArgsFromConfig(windows([{ kind: "jvm" }, { kind: "jdk", javaHome: "C:\\Program Files\\Java\\jdk-17" }]), secrets, readExample).servers[0].javaKeystores?.length, 2);
    assert.deepEqual(problemsOf(() => fleetArgsFromConfig(windows([{ kind: "jdk", javaHome: "/opt/jdk" }]), secrets, readExample)), [
      "trusted-roots:servers[0].javaKeystores[0]: javaHome /opt/jdk is not a Windows path: a Windows server's keystore is named like C:\\app\\conf\\client-cas.p12",
    ]);
    assert.deepEqual(problemsOf(() => parseFleetConfig({ ...values, servers: [{ name: "a", host: "h", platform: "debian", javaKeystores: [{ kind: "file" }] }] })), [
      "trusted-roots:servers[0].javaKeystores[0].path: a file keystore needs path, the truststore's absolute path (e.g. /opt/tomcat/conf/client-cas.p12)",
    ]);
  });

  it("the IIS example puts Fabrikam's issuing CA in the CA store and distrusts the retired root", () => {
    const { values } = readStackConfig(readExample("Pulumi.iis.yaml").toString("utf8"), "Pulumi.iis.yaml");
    const [iis01] = fleetArgsFromConfig(parseFleetConfig(values), secrets, readExample).servers;
    assert.deepEqual(iis01.intermediates?.map((certificate) => certificate.commonName), ["Fabrikam Issuing CA 01"]);
    assert.deepEqual(iis01.distrusted?.map((certificate) => certificate.commonName), ["Contoso Retired Root 2015"]);
    assert.deepEqual(iis01.afterChange, { action: "reboot", timeoutSeconds: 900 });
  });

  it("clientAuthIssuers reach the Windows ClientAuthIssuer store only; the health check's tlsVersion is 1.2 or 1.3", () => {
    const config = (platform: string, tlsVersion = "1.2") =>
      parseFleetConfig({
        servers: [{ name: "iis01", host: "10.0.0.1", platform, hostKey: "SHA256:" + "A".repeat(43), groups: ["iis"], healthCheck: { url: "https://{host}/", tlsVersion } }],
        rootSets: { contoso: { files: ["roots/contoso-root-ca-g2.pem"] }, issuing: { files: ["roots/fabrikam-issuing-ca-01.pem"] } },
        groups: { iis: { roots: ["contoso"], clientAuthIssuers: ["issuing", "contoso"] } },
      });
    const [iis01] = fleetArgsFromConfig(config("windows"), secrets, readExample).servers;
    assert.deepEqual(iis01.clientAuthIssuers?.map((certificate) => certificate.commonName), ["Fabrikam Issuing CA 01", "Contoso Root CA G2"]);
    assert.equal(iis01.afterChange, undefined, "unset: the component's platform default (a reboot on Windows) applies");
    assert.match(problemsOf(() => fleetArgsFromConfig(config("debian"), secrets, readExample)).join("\n"), /clientAuthIssuers are for the Windows "ClientAuthIssuer" store/);
    assert.match(problemsOf(() => config("windows", "1.1")).join("\n"), /trusted-roots:servers\[0\]\.healthCheck\.tlsVersion: /);
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

  it("url and certsrv root sets: pinned, from one place, with fetch settings only for them; unfetched sets are named", () => {
    const server = { name: "web01", host: "10.0.0.5", platform: "debian", hostKey: "SHA256:" + "A".repeat(43) };
    const pin = "A".repeat(64);
    const problems = (rootSets: Record<string, unknown>) => problemsOf(() => parseFleetConfig({ servers: [server], rootSets }));
    assert.deepEqual(problems({ a: { url: "http://pki/root.crt" } }), [
      "trusted-roots:rootSets.a.thumbprints: a fetched root set needs thumbprints: pin each root you verified out of band (certutil -dump, or openssl x509 -noout -fingerprint -sha256); only certificates they name are used",
    ]);
    assert.deepEqual(problems({ a: { url: "ftp://pki/root.crt", thumbprints: [pin] } }), ["trusted-roots:rootSets.a.url: must be an http:// or https:// URL, e.g. http://pki.contoso.com/contoso-root.crt"]);
    assert.deepEqual(problems({ a: { url: "http://pki/r.crt", files: ["r.pem"], thumbprints: [pin] } }), [
      "trusted-roots:rootSets.a: a root set takes its certificates from one place: files and pem, or url, or certsrv, or ldap; declare another set for the rest",
    ]);
    assert.deepEqual(problems({ a: { files: ["r.pem"], fetch: { timeoutSeconds: 5 } } }), ["trusted-roots:rootSets.a.fetch: fetch settings apply to url, certsrv and ldap sources only"]);
    assert.deepEqual(problems({ a: { certsrv: "http://ca01/certsrv", thumbprints: [pin], fetch: { proxy: "http://proxy:3128", timeoutSecond: 5 } } }), [
      "trusted-roots:rootSets.a.fetch.timeoutSecond: unknown key; did you mean timeoutSeconds?",
    ]);
    assert.deepEqual(problems({ a: {} }), ["trusted-roots:rootSets.a: a root set needs files, pem, url, certsrv or ldap"]);
    const base = "CN=Certification Authorities,CN=Public Key Services,CN=Services,CN=Configuration,DC=contoso,DC=com";
    assert.deepEqual(problems({ a: { ldap: { url: "ldaps://dc01/extra", base }, thumbprints: [pin] } }), [
      "trusted-roots:rootSets.a.ldap.url: must be ldap://host[:port] or ldaps://host[:port], e.g. ldaps://dc01.contoso.com",
    ]);
    assert.deepEqual(problems({ a: { ldap: { url: "ldaps://dc01", base }, thumbprints: [pin], fetch: { proxy: "http://proxy:3128" } } }), [
      "trusted-roots:rootSets.a.fetch.proxy: a proxy applies to url and certsrv sources (HTTP), not to ldap",
    ]);
    assert.deepEqual(problems({ a: { ldap: { url: "ldaps://dc01", base, bindDN: "x" }, thumbprints: [pin] } }), ["trusted-roots:rootSets.a.ldap.bindDN: unknown key; did you mean bindDn?"]);
    const config = parseFleetConfig({ servers: [{ ...server, roots: ["a"] }], rootSets: { a: { certsrv: "http://ca01/certsrv", thumbprints: [pin] } } });
    assert.equal(
      problemsOf(() => fleetArgsFromConfig(config, secrets, readExample))[0],
      "trusted-roots:rootSets.a: not fetched (load the config with loadFleetArgs, which fetches url, certsrv and ldap sets)",
    );
  });

  it("Linux servers take intermediates and cross-signed roots; each list refuses what belongs in another", () => {
    const pki = new TestPki();
    const old = pki.root("old", "/O=Contoso/CN=Contoso Root CA");
    const g3 = pki.root("g3", "/O=Contoso/CN=Contoso Root CA G3");
    const cross = pki.crossSign("g3-by-old", g3, old);
    const issuing = pki.issue("issuing", "/O=Contoso/CN=Contoso Issuing CA", g3, { ca: true });
    const files: Record<string, string> = { "old.pem": old.pem, "g3.pem": g3.pem, "cross.pem": cross.pem, "issuing.pem": issuing.pem };
    const readFile = (file: string) => Buffer.from(files[file]);
    const server = { name: "web01", host: "10.0.0.5", platform: "debian", hostKey: "SHA256:" + "A".repeat(43), groups: ["web"] };
    const load = (group: Record<string, string[]>) =>
      fleetArgsFromConfig(
        parseFleetConfig({ servers: [server], rootSets: Object.fromEntries(Object.keys(files).map((file) => [file.replace(".pem", ""), { files: [file] }])), groups: { web: group } }),
        secrets,
        readFile,
      );
    const [web01] = load({ roots: ["old", "g3"], intermediates: ["issuing"], crossSigned: ["cross"] }).servers;
    assert.deepEqual([web01.intermediates?.map((c) => c.commonName), web01.crossSigned?.map((c) => c.issuer)], [["Contoso Issuing CA"], ["CN=Contoso Root CA, O=Contoso"]]);
    const problems = problemsOf(() => load({ roots: ["old"], intermediates: ["cross", "g3"], crossSigned: ["issuing"] }));
    assert.deepEqual(problems, [
      `trusted-roots:servers[0] (web01) intermediates: "CN=Contoso Root CA G3, O=Contoso" (SHA-1 ${parseCertificates(g3.pem)[0].sha1}) is a self-signed root; declare it under roots`,
      `trusted-roots:servers[0] (web01) crossSigned: "CN=Contoso Issuing CA, O=Contoso" (SHA-1 ${parseCertificates(issuing.pem)[0].sha1}) has the subject and key of no root this server declares; declare that root too, or list it under intermediates`,
    ]);
    const hidden = problemsOf(() => load({ roots: ["old", "g3"], intermediates: ["cross"] }));
    assert.match(hidden.join("\n"), /intermediates: "CN=Contoso Root CA G3, O=Contoso" .* is a cross-signed form of the root .* \(issued by "CN=Contoso Root CA, O=Contoso"\); list it under crossSigned/);
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

  it("a bastion gets its own key, the servers' key only where shared, or the agent; never the servers' password", () => {
    const pin = "SHA256:" + "B".repeat(43);
    const bastion = (extra: object = {}) => ({ host: "jump.contoso.test", hostKey: pin, ...extra });
    const connectionWith = (secretsGiven: FleetSecretsInput, jump: object) => {
      const config = parseFleetConfig({ servers: [{ name: "web01", host: "10.0.0.1", platform: "debian", hostKey: pin, roots: ["contoso"], bastion: jump }], rootSets: { contoso: { files: ["roots/contoso-root-ca-g2.pem"] } } });
      return fleetArgsFromConfig(config, secretsGiven, readExample).servers[0].connection as { bastion: Record<string, unknown> };
    };
    const withPassword = { privateKey: "server key", passphrase: "server passphrase", password: "server password" };
    assert.deepEqual(connectionWith({ ...withPassword, bastionPrivateKey: "bastion key" }, bastion()).bastion, { host: "jump.contoso.test", hostKey: pin, privateKey: "bastion key" });
    assert.deepEqual(connectionWith(withPassword, bastion({ shareServerKey: true })).bastion, { host: "jump.contoso.test", hostKey: pin, privateKey: "server key", passphrase: "server passphrase" });
    assert.deepEqual(connectionWith({ password: "server password", agent: "/run/agent.sock" }, bastion()).bastion, { host: "jump.contoso.test", hostKey: pin, agent: "/run/agent.sock" });
    assert.deepEqual(problemsOf(() => connectionWith(withPassword, bastion())), [
      "trusted-roots:servers[0].bastion: no credentials for the bastion jump.contoso.test: set the secret trusted-roots:bastionPrivateKey, use an ssh-agent, or set bastion.shareServerKey: true to log in to it with the servers' key too (a password is never sent to another host)",
    ]);
    assert.equal(problemsOf(() => connectionWith({ password: "server password" }, bastion({ shareServerKey: true }))).length, 1, "a shared password-only login is still no bastion credential");
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
