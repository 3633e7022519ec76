import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";

// Component wiring only: the engine is mocked, no host is contacted. The library is loaded after setMocks.
const EXAMPLES = resolve(__dirname, "../../../examples");

interface Registration {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  dependencies: string[];
}

const registrations: Registration[] = [];
const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";

pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      // A dynamic resource's outputs: what its provider would compute, fixed here.
      const outputs = args.type.includes("TrustStore")
        ? { revision: "rev-1", changed: true, imported: ["CN=Contoso Root CA G2"], removed: [], observed: {} }
        : {};
      return { id: `${args.name}-id`, state: { ...args.inputs, ...outputs } };
    },
    call: () => ({}),
  },
  "trusted-roots",
  "iis",
  false,
);

// Record what every registration carries, dependencies included (MockResourceArgs has no dependencies).
const monitor = pulumi.runtime.getMonitor() as unknown as {
  registerResource: (request: RegisterRequest, callback: (error: Error | null, response: unknown) => void) => void;
};
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}
const original = monitor.registerResource.bind(monitor);
monitor.registerResource = (request, callback) => {
  registrations.push({
    type: request.getType(),
    name: request.getName(),
    inputs: request.getObject()?.toJavaScript() ?? {},
    dependencies: request.getDependenciesList(),
  });
  original(request, callback);
};

// eslint-disable-next-line @typescript-eslint/no-require-imports -- must load after setMocks
const library = require("../../components") as typeof import("../../components");

/** The resource names a registration depends on (a URN ends with `::<name>`). */
function dependencyNames(name: string): string[] {
  const found = registrations.find((registration) => registration.name === name);
  assert.ok(found, `no resource named ${name}`);
  return found.dependencies.map((urn) => urn.slice(urn.lastIndexOf("::") + 2)).sort();
}

function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolvePromise) => output.apply(resolvePromise));
}

describe("fleet wiring under mocks", function () {
  this.timeout(30_000);
  let fleet: InstanceType<typeof library.TrustFleet>;

  before(async () => {
    const { values } = library.readStackConfig(readFileSync(join(EXAMPLES, "Pulumi.iis.yaml"), "utf8"), "Pulumi.iis.yaml");
    const args = library.fleetArgsFromConfig(
      library.parseFleetConfig(values),
      { password: pulumi.secret("hunter2-password"), healthClientKey: pulumi.secret("-----BEGIN PRIVATE KEY-----x") },
      (file) => readFileSync(join(EXAMPLES, file)),
    );
    fleet = new library.TrustFleet("iis", args);
    await promiseOf(fleet.report);
  });

  it("declares at most 3 resources per server: root store, CA store (Windows intermediates), action", () => {
    const perServer = (server: string) =>
      registrations.filter((registration) => registration.type !== library.WEB_SERVER_TRUST_TYPE && registration.name.startsWith(`${server}-`));
    assert.deepEqual(perServer("iis01").map((registration) => registration.type).sort(), [
      "trusted-roots:index:HostReboot",
      "trusted-roots:index:TrustStore",
      "trusted-roots:index:TrustStore",
    ]);
    assert.deepEqual(
      perServer("iis03").map((registration) => registration.type).filter((type) => !type.endsWith("TrustStore")),
      ["trusted-roots:index:ServiceRestart"],
      "iis03 restarts W3SVC instead of rebooting",
    );
    for (const server of ["iis01", "iis02", "iis03"]) assert.ok(perServer(server).length <= 3);
  });

  it("registers exactly the type tokens the policy pack matches", () => {
    // The pack's own copy, as its policies import it: a component registering under any other token would
    // make every policy silently pass.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after setMocks, like the library
    const policyTokens = require("../../policies/shared") as Record<string, unknown>;
    const registered = new Set(registrations.map((registration) => registration.type));
    const matched = ["TRUST_STORE", "HOST_REBOOT", "SERVICE_RESTART", "WEB_SERVER_TRUST", "TRUST_FLEET"].map((key) => policyTokens[key]);
    for (const token of matched) assert.ok(typeof token === "string" && registered.has(token), `policies match ${String(token)}, which no component registered`);
    const dynamic = [...registered].filter((type) => type.startsWith("pulumi-nodejs:dynamic/"));
    const known = new Set(Object.values(policyTokens).filter((value) => typeof value === "string"));
    assert.deepEqual(dynamic.filter((type) => !known.has(type)), [], "a resource type the policy pack does not know");
  });

  it("rolls out in waves: each server's stores wait for the previous wave's gate, which waits for its actions", () => {
    assert.deepEqual(fleet.waves, [["iis01"], ["iis02"], ["iis03"]]);
    assert.deepEqual(dependencyNames("iis01-root"), []);
    assert.deepEqual(dependencyNames("iis-wave-1-done"), ["iis01-reboot"]);
    assert.deepEqual(dependencyNames("iis02-root"), ["iis-wave-1-done"]);
    assert.deepEqual(dependencyNames("iis02-ca"), ["iis-wave-1-done", "iis02-root"], "the CA store also follows its root store: one manifest, one writer at a time");
    assert.deepEqual(dependencyNames("iis-wave-2-done"), ["iis02-reboot"]);
    assert.deepEqual(dependencyNames("iis03-root"), ["iis-wave-2-done"]);
    assert.deepEqual(dependencyNames("iis01-reboot"), ["iis01-ca", "iis01-root"]);
    assert.equal(registrations.some((registration) => registration.name === "iis-wave-3-done"), false, "no gate after the last wave");
  });

  it("keeps dependency lists linear in the fleet: no resource depends on more than one wave's worth", async () => {
    const servers = Array.from({ length: 200 }, (_, index) => ({
      name: `big${index}`,
      connection: { host: `10.1.${Math.floor(index / 250)}.${index % 250}`, hostKey: "SHA256:" + "A".repeat(43), privateKey: "k" },
      platform: "debian" as const,
      roots: [],
      afterChange: { action: "restart" as const, preset: "nginx" as const },
    }));
    const big = new library.TrustFleet("big", { servers, rollout: { percent: 25 } });
    await promiseOf(big.report);
    const mine = registrations.filter((registration) => registration.name.startsWith("big"));
    const total = mine.reduce((sum, registration) => sum + registration.dependencies.length, 0);
    const most = (suffix: string) => Math.max(...mine.filter((registration) => registration.name.endsWith(suffix)).map((registration) => registration.dependencies.length));
    assert.deepEqual([most("-root"), most("-restart"), most("-done")], [1, 1, 50], "a store waits for one gate; a gate for its wave's 50 servers");
    // Waiting on the whole previous wave directly, each of the 150 later stores would list 50: 7,500 in all.
    assert.ok(total <= 4 * servers.length, `${total} dependencies for ${servers.length} servers`);
  });

  it("passes the declared roots to the component, where policies see them", () => {
    const component = registrations.find((registration) => registration.type === library.WEB_SERVER_TRUST_TYPE && registration.name === "iis01")!;
    const roots = component.inputs.roots as { subject: string; sha1: string }[];
    assert.deepEqual(roots.map((root) => [root.subject, root.sha1]), [["CN=Contoso Root CA G2, O=Contoso Ltd, C=US", "2E8C709BD90483E99A2D40300CF1FE08AC15A28C"]]);
    assert.deepEqual((component.inputs.intermediates as { subject: string }[]).map((root) => root.subject), ["CN=Fabrikam Issuing CA 01, O=Fabrikam"]);
    assert.deepEqual((component.inputs.afterChange as { action: string }).action, "reboot");
    const store = registrations.find((registration) => registration.name === "iis01-root")!;
    // Keyed by SHA-256, each entry naming its subject.
    const subjects = (map: unknown) => Object.entries(map as Record<string, { sha256: string; subject: string }>).map(([key, root]) => [key === root.sha256, root.subject]);
    assert.deepEqual(subjects(store.inputs.roots), [[true, "CN=Contoso Root CA G2, O=Contoso Ltd, C=US"]]);
    assert.deepEqual(subjects(store.inputs.distrusted).map(([, subject]) => String(subject).split(",")[0]), ["CN=Contoso Retired Root 2015"]);
    assert.equal((registrations.find((registration) => registration.name === "iis01-ca")!.inputs.store), "CA");
  });

  it("keeps the password and the health-check key secret", () => {
    // Walks a registered value; true when `needle` appears anywhere outside a secret wrapper.
    const exposed = (value: unknown, needle: string): boolean => {
      if (typeof value === "string") return value.includes(needle);
      if (!value || typeof value !== "object") return false;
      if (SECRET_SIGNATURE in value) return false;
      return Object.values(value).some((item) => exposed(item, needle));
    };
    const carried = (value: unknown, needle: string) => JSON.stringify(value).includes(needle);
    for (const needle of ["hunter2-password", "-----BEGIN PRIVATE KEY-----x"]) {
      assert.ok(registrations.some((registration) => carried(registration.inputs, needle)), `${needle} reaches a resource`);
      assert.deepEqual(registrations.filter((registration) => exposed(registration.inputs, needle)).map((registration) => registration.name), []);
    }
  });

  it("reports every server", async () => {
    const report = await promiseOf(fleet.report);
    assert.deepEqual(report.map((entry) => [entry.server, entry.status]), [["iis01", "changed"], ["iis02", "changed"], ["iis03", "changed"]]);
    assert.deepEqual(report[0].imported, ["CN=Contoso Root CA G2", "CN=Contoso Root CA G2"]);
  });

  it("a Windows server with no afterChange reboots (the incident's fix); its ClientAuthIssuer CAs get a store of their own", async () => {
    const certificate = library.parseCertificates(readFileSync(join(EXAMPLES, "roots/contoso-root-ca-g2.pem")));
    const issuing = library.parseCertificates(readFileSync(join(EXAMPLES, "roots/fabrikam-issuing-ca-01.pem")));
    const connection = { host: "10.0.0.10", hostKey: "SHA256:" + "A".repeat(43), privateKey: pulumi.secret("k") };
    const iis = new library.WebServerTrust("iis-default", { connection, platform: "windows", roots: certificate, clientAuthIssuers: issuing });
    await promiseOf(iis.report);
    await promiseOf(iis.afterChange!.urn);
    assert.equal(registrations.find((registration) => registration.name === "iis-default-reboot")?.type, library.HOST_REBOOT_TYPE);
    const clientAuth = registrations.find((registration) => registration.name === "iis-default-clientauth")!;
    assert.equal(clientAuth.inputs.store, "ClientAuthIssuer");
    assert.deepEqual(dependencyNames("iis-default-reboot"), ["iis-default-clientauth", "iis-default-root"]);
    assert.throws(
      () => new library.WebServerTrust("linux-clientauth", { connection, platform: "debian", roots: certificate, clientAuthIssuers: issuing }),
      /clientAuthIssuers go to the Windows "ClientAuthIssuer" store; debian servers take roots only/,
    );
  });

  it("a Linux server's Java keystores each get a Java store named after the keystore, holding its roots; a truststore's password stays secret", async () => {
    const contoso = library.parseCertificates(readFileSync(join(EXAMPLES, "roots/contoso-root-ca-g2.pem")));
    const connection = { host: "10.0.0.12", hostKey: "SHA256:" + "A".repeat(43), privateKey: pulumi.secret("k") };
    const keystores = [{ kind: "jvm" as const }, { kind: "file" as const, path: "/opt/tomcat/conf/client-cas.p12" }];
    const tomcat = new library.WebServerTrust("tomcat1", { connection, platform: "debian", roots: contoso, javaKeystores: keystores, javaKeystorePassword: pulumi.secret("truststore-pass-123") });
    await promiseOf(tomcat.report);
    const java = registrations.filter((registration) => registration.name.startsWith("tomcat1-java-"));
    assert.deepEqual(java.map((registration) => [registration.inputs.store, registration.inputs.keystore]).sort(), [["Java", keystores[0]], ["Java", keystores[1]]].sort());
    assert.deepEqual(java.map((registration) => Object.keys(registration.inputs.roots as object)), [[contoso[0].sha256], [contoso[0].sha256]]);
    const truststore = java.find((registration) => (registration.inputs.keystore as { kind: string }).kind === "file")!;
    assert.equal((truststore.inputs.keystorePassword as Record<string, unknown>)[SECRET_SIGNATURE] !== undefined, true, "the password is a secret input");
    assert.equal(java.find((registration) => registration !== truststore)!.inputs.keystorePassword, undefined, "a cacerts gets no password of the truststore's");
    // Named after the keystore: a reordered list declares the same resources.
    const reordered = new library.WebServerTrust("tomcat2", { connection, platform: "debian", roots: contoso, javaKeystores: [...keystores].reverse(), javaKeystorePassword: "p" });
    await promiseOf(reordered.report);
    const suffixes = (server: string) => registrations.filter((registration) => registration.name.startsWith(`${server}-java-`)).map((registration) => registration.name.slice(server.length)).sort();
    assert.deepEqual(suffixes("tomcat2"), suffixes("tomcat1"));
    assert.throws(() => new library.WebServerTrust("tomcat3", { connection, platform: "debian", roots: contoso, javaKeystores: [keystores[1]] }), /tomcat3: the truststore \/opt\/tomcat\/conf\/client-cas.p12 needs javaKeystorePassword/);
    // A Windows server's keystores are declared the same way, with Windows paths (the store's check refuses others).
    const iis = new library.WebServerTrust("iis-java", { connection, platform: "windows", roots: contoso, javaKeystores: [{ kind: "file", path: "C:\\Tomcat\\conf\\client-cas.p12" }], javaKeystorePassword: "p" });
    await promiseOf(iis.report);
    assert.deepEqual(registrations.filter((registration) => registration.name.startsWith("iis-java-java-")).map((registration) => registration.inputs.keystore), [{ kind: "file", path: "C:\\Tomcat\\conf\\client-cas.p12" }]);
  });

  it("a Linux server's intermediates and cross-signed certificates get a CA store after its root store; a root hidden among them is refused", async () => {
    const contoso = library.parseCertificates(readFileSync(join(EXAMPLES, "roots/contoso-root-ca-g2.pem")));
    const issuing = library.parseCertificates(readFileSync(join(EXAMPLES, "roots/fabrikam-issuing-ca-01.pem")));
    const connection = { host: "10.0.0.11", hostKey: "SHA256:" + "A".repeat(43), privateKey: pulumi.secret("k") };
    const web = new library.WebServerTrust("linux-chain", { connection, platform: "debian", roots: contoso, intermediates: issuing, afterChange: { action: "restart", preset: "nginx" } });
    await promiseOf(web.report);
    await promiseOf(web.afterChange!.urn);
    const ca = registrations.find((registration) => registration.name === "linux-chain-ca")!;
    assert.deepEqual([ca.inputs.store, ca.inputs.platform, Object.keys(ca.inputs.roots as object)], ["CA", "debian", [issuing[0].sha256]]);
    assert.deepEqual(dependencyNames("linux-chain-ca"), ["linux-chain-root"]);
    assert.deepEqual(dependencyNames("linux-chain-restart"), ["linux-chain-ca", "linux-chain-root"], "the restart follows both stores");
    assert.throws(
      () => new library.WebServerTrust("linux-smuggled", { connection, platform: "debian", roots: contoso, intermediates: contoso }),
      /linux-smuggled: intermediates: "CN=Contoso Root CA G2, O=Contoso Ltd, C=US" .* is a self-signed root; declare it under roots/,
    );
  });

  it("the @pulumi/command example: a remote command per server, after its restart, triggered by its revision; the next wave waits for it", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after setMocks, like the library
    const { fleetWithCommands } = require("../../examples/command/afterChange") as typeof import("../../examples/command/afterChange");
    const { pinnedHostKeyViolations } = require("../../policies/pinnedHostKeys") as typeof import("../../policies/pinnedHostKeys"); // eslint-disable-line @typescript-eslint/no-require-imports
    const { plainValues } = require("../../components/provider/wire") as typeof import("../../components/provider/wire"); // eslint-disable-line @typescript-eslint/no-require-imports
    const pem = readFileSync(join(EXAMPLES, "roots/contoso-root-ca-g2.pem"), "utf8");
    const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJIE8IEFghAsivcI7cPLoCQ9aaYYkDQdUE8nvlByC9Pu";
    const { fleet, commands: declared } = fleetWithCommands(pem, [{ name: "cmd01", host: "10.0.0.21", hostKey }, { name: "cmd02", host: "10.0.0.22", hostKey }], pulumi.secret("k"));
    await promiseOf(fleet.report);
    await Promise.all(declared.map((command) => promiseOf(command.urn)));
    const commands = registrations.filter((registration) => registration.type === "command:remote:Command");
    assert.deepEqual(commands.map((registration) => registration.name).sort(), ["cmd01-notify-lb", "cmd02-notify-lb"]);
    assert.deepEqual(dependencyNames("cmd01-notify-lb"), ["cmd01-restart", "cmd01-root"], "after the restart; the revision comes from the store");
    assert.deepEqual(commands[0].inputs.triggers, ["rev-1"], "triggered by the server's store revision");
    assert.deepEqual(dependencyNames("web-wave-1-done"), ["cmd01-notify-lb", "cmd01-restart"], "the next wave waits for the user's command too");
    for (const registration of commands) {
      // The policy sees secret inputs as plain values; the mock records them in wire form.
      const props = plainValues(registration.inputs) as Record<string, unknown>;
      assert.equal((props.connection as { hostKey: string }).hostKey, hostKey);
      assert.deepEqual(pinnedHostKeyViolations({ type: registration.type, name: registration.name, props, urn: "" } as never), []);
    }
  });

  it("declares no action resource when none is configured, and a HealthCheck when only a check is", async () => {
    const certificate = library.parseCertificates(readFileSync(join(EXAMPLES, "roots/contoso-root-ca-g2.pem")));
    const connection = { host: "10.0.0.9", hostKey: "SHA256:" + "A".repeat(43), privateKey: pulumi.secret("k") };
    const plain = new library.WebServerTrust("plain", { connection, platform: "debian", roots: certificate });
    const checked = new library.WebServerTrust("checked", { connection, platform: "debian", roots: certificate, healthCheck: { url: "http://10.0.0.9/" } });
    await promiseOf(plain.report);
    await promiseOf(checked.report);
    await promiseOf(checked.afterChange!.urn);
    assert.equal(plain.afterChange, undefined);
    assert.deepEqual(plain.completion, plain.stores);
    assert.equal(registrations.find((registration) => registration.name === "checked-health")?.type, library.HEALTH_CHECK_TYPE);
  });
});
