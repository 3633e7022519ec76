import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { TrustedRootsProvider } from "../../components/provider/provider";
import { fetchRootsInputSchema, serverInputSchema } from "../../components/provider/componentSchemas";
import { PACKAGE_SCHEMA } from "../../components/provider/schema";
import { plainValues, typeOfUrn, withSecretProperties } from "../../components/provider/wire";
import { afterChangeInputsSchema } from "../../components/resources/afterChangeCore";
import { healthCheckSchema } from "../../components/resources/health";
import { trustStoreInputsSchema } from "../../components/resources/trustStoreCore";
import { sshTargetSchema } from "../../components/transport";
import { bastionSchema } from "../../components/transport/target";
import { afterChangeSchema } from "../../components/resources/afterChangeCore";
import { ldapSourceSchema } from "../../components/sources/schema";
import { FETCH_ROOTS_FUNCTION, PACKAGE_VERSION, TRUST_STORE_TYPE } from "../../components/typeTokens";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseCertificates } from "../../components/certificates";
import { TestPki } from "../support/pki";
import { renderSchema } from "../../scripts/writeSchema";

const REPO = resolve(__dirname, "../../..");
const secret = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });
const keys = (object: object) => Object.keys(object).sort();

describe("the provider plugin's pure parts", () => {
  type SchemaEntry = { inputProperties: Record<string, unknown>; properties: Record<string, unknown> };
  const resources = PACKAGE_SCHEMA.resources as unknown as Record<string, SchemaEntry>;
  const types = PACKAGE_SCHEMA.types as unknown as Record<string, { properties: Record<string, unknown> }>;

  it("the schema's inputs are exactly what the provider validates (zod), resource by resource and type by type", () => {
    assert.deepEqual(keys(resources[TRUST_STORE_TYPE].inputProperties), keys(trustStoreInputsSchema.shape));
    const afterChangeInputs = new Set(
      ["HostReboot", "ServiceRestart", "HealthCheck"].flatMap((name) => Object.keys(resources[`trusted-roots:index:${name}`].inputProperties)),
    );
    // `kind` comes from the resource type, not from the program.
    assert.deepEqual([...afterChangeInputs, "kind"].sort(), keys(afterChangeInputsSchema.shape));
    assert.deepEqual(keys(types["trusted-roots:index:Connection"].properties), keys(sshTargetSchema.shape));
    assert.deepEqual(keys(types["trusted-roots:index:HealthCheck"].properties), keys(healthCheckSchema.shape));
    assert.deepEqual(keys(types["trusted-roots:index:Server"].properties), keys(serverInputSchema.shape));
    assert.deepEqual(keys(resources["trusted-roots:index:WebServerTrust"].inputProperties), keys(serverInputSchema.shape).filter((key) => key !== "name"));
    const fetchRootsSchema = (PACKAGE_SCHEMA.functions as Record<string, { inputs: { properties: Record<string, unknown> } }>)["trusted-roots:index:fetchRoots"];
    assert.deepEqual(keys(fetchRootsSchema.inputs.properties), keys(fetchRootsInputSchema.shape));
    assert.deepEqual(keys(types["trusted-roots:index:LdapSource"].properties), keys(ldapSourceSchema.shape));
    const afterChangeKeys = new Set(afterChangeSchema.options.flatMap((option) => Object.keys(option.shape)));
    assert.deepEqual(keys(types["trusted-roots:index:AfterChange"].properties), [...afterChangeKeys].sort());
    assert.deepEqual(keys(types["trusted-roots:index:Bastion"].properties), keys(bastionSchema.shape));
  });

  it("a plugin start loads the SDK's provider server, not its index (the Automation API and TypeScript): those wait for a construct", () => {
    // What main.ts loads, in a process of its own (this one loaded the index above).
    const loaded = execFileSync(process.execPath, ["-e", `require("@pulumi/pulumi/provider"); require(${JSON.stringify(resolve(__dirname, "../../components/provider/provider.js"))}); require(${JSON.stringify(resolve(__dirname, "../../components/provider/schema.js"))}); console.log(Object.keys(require.cache).join("\\n"))`], { cwd: REPO, encoding: "utf8" }).split("\n");
    assert.ok(loaded.some((path) => path.endsWith("/@pulumi/pulumi/provider/server.js")), "the provider server is loaded");
    const heavy = loaded.filter((path) => path.endsWith("/@pulumi/pulumi/index.js") || path.includes("/node_modules/typescript/") || path.includes("/@pulumi/pulumi/automation/"));
    assert.deepEqual(heavy, []);
  });

  it("schema.json is what the plugin serves, and its version is the package's", () => {
    assert.equal(readFileSync(resolve(REPO, "schema.json"), "utf8"), renderSchema(), "run npm run schema");
    assert.equal(PACKAGE_SCHEMA.version, (JSON.parse(readFileSync(resolve(REPO, "package.json"), "utf8")) as { version: string }).version);
    assert.equal(PACKAGE_VERSION, PACKAGE_SCHEMA.version);
  });

  it("secrets in wire form are unwrapped at any depth, 0.1's serialized provider is dropped, and secret outputs are wrapped again", () => {
    const wire = { __provider: "exports.handler = ...", connection: secret({ host: "h", privateKey: secret("k") }), roots: { a: { pem: "P" } } };
    assert.deepEqual(plainValues(wire), { connection: { host: "h", privateKey: "k" }, roots: { a: { pem: "P" } } });
    const wrapped = withSecretProperties({ connection: { host: "h" }, revision: "r" }, ["connection", "healthCheck"]);
    assert.equal(pulumi.runtime.isRpcSecret(wrapped.connection), true);
    assert.equal(wrapped.revision, "r");
    assert.equal("healthCheck" in wrapped, false);
    assert.equal(typeOfUrn("urn:pulumi:prod::p::trusted-roots:index:TrustFleet$trusted-roots:index:WebServerTrust$trusted-roots:index:TrustStore::web01-root"), TRUST_STORE_TYPE);
  });

  it("check validates secret inputs as plain values, returns them as given, and names each problem", async () => {
    const provider = new TrustedRootsProvider(PACKAGE_VERSION, "{}");
    const urn = `urn:pulumi:s::p::${TRUST_STORE_TYPE}::web01-root`;
    const news = { connection: secret({ host: "10.0.0.5", hostKey: "SHA256:" + "A".repeat(43), privateKey: "k" }), platform: "debian", roots: {} };
    assert.deepEqual(await provider.check(urn, {}, news), { inputs: news });
    const bad = await provider.check(urn, {}, { ...news, platform: "solaris" });
    assert.match(JSON.stringify(bad.failures), /platform/);
    await assert.rejects(provider.check("urn:pulumi:s::p::trusted-roots:index:Nope::x", {}, {}), /has no resource type trusted-roots:index:Nope/);
  });

  it("fetchRoots (invoke): validates its inputs, then returns only the pinned certificates as PEM", async () => {
    const provider = new TrustedRootsProvider(PACKAGE_VERSION, "{}");
    const pki = new TestPki();
    const [root, other] = [pki.root("a", "/CN=Invoke Root A"), pki.root("b", "/CN=Invoke Root B")].map((made) => parseCertificates(made.pem)[0]);
    const reasons = async (inputs: object) => ((await provider.invoke(FETCH_ROOTS_FUNCTION, inputs)).failures ?? []).map((failure) => `${failure.property}: ${failure.reason}`);
    assert.deepEqual(await reasons({ url: "http://pki/r.crt", thumbprints: [] }), ["thumbprints: pin the thumbprint of each root you verified out of band; only certificates they name are used"]);
    assert.deepEqual(await reasons({ url: "http://pki/r.crt", certsrv: "http://ca01/certsrv", thumbprints: [root.sha256] }), [": give exactly one source: url, certsrv or ldap"]);
    const server = createServer((_request, response) => response.end(root.pem + other.pem));
    await new Promise<void>((resolvePromise) => server.listen(0, "127.0.0.1", resolvePromise));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/roots.pem`;
      const result = await provider.invoke(FETCH_ROOTS_FUNCTION, { url, thumbprints: [secret(root.sha1)] });
      assert.deepEqual(result.outputs, { pems: [root.pem], subjects: ["CN=Invoke Root A"], leftOut: ["CN=Invoke Root B"] });
      await assert.rejects(provider.invoke(FETCH_ROOTS_FUNCTION, { url, thumbprints: ["AB".repeat(32)] }), /trusted-roots:index:fetchRoots \(http:\/\/127\.0\.0\.1:\d+\/roots\.pem\): no certificate it answered has the pinned thumbprint/);
    } finally {
      server.close();
    }
  });
});
