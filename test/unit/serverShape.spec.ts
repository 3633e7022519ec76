import { strict as assert } from "node:assert";
import { fleetConfigSchema, inventoryFileSchema } from "../../components/config/schema";
import { serverInputSchema } from "../../components/provider/componentSchemas";
import { CERTIFICATE_LIST_NAMES, serverTraitsSchema } from "../../components/serverCore";
import type { WebServerTrustArgs } from "../../components/WebServerTrust";

// The stack config's server, the provider's Server input and the component's arguments declare what they share
// once (serverCore.ts); these tests fail when one of them grows its own copy again.

const configServer = inventoryFileSchema.shape.servers.element;

describe("one server shape (serverCore)", () => {
  it("the config's server and the provider's Server take every shared trait from the one declaration", () => {
    for (const [trait, schema] of Object.entries(serverTraitsSchema.shape)) {
      assert.equal(configServer.shape[trait as keyof typeof configServer.shape], schema, `stack config server.${trait}`);
      assert.equal(serverInputSchema.shape[trait as keyof typeof serverInputSchema.shape], schema, `provider Server.${trait}`);
    }
  });

  it("a bad trait gets the same message from the stack config and from a multi-language program", () => {
    const bad = { afterChange: { action: "restart", preset: "nginx", service: "nginx" }, testCommand: "" };
    const fromConfig = configServer.safeParse({ name: "web1", host: "10.0.0.1", platform: "debian", ...bad });
    const fromProgram = serverInputSchema.safeParse({ name: "web1", connection: {}, platform: "debian", ...bad });
    assert.equal(fromConfig.success, false);
    assert.equal(fromProgram.success, false);
    const messages = (issues: { path: PropertyKey[]; message: string }[]) => issues.map(({ path, message }) => `${path.join(".")}: ${message}`).sort();
    assert.deepEqual(messages(fromConfig.error.issues), messages(fromProgram.error.issues));
    assert.equal(messages(fromConfig.error.issues).length, 2);
  });

  it("a group, the provider's Server and the component's arguments list the same certificate lists", () => {
    const groupShape = fleetConfigSchema.parse({ servers: [{ name: "a", host: "h", platform: "debian" }], groups: { g: {} } }).groups.g;
    assert.deepEqual(Object.keys(groupShape).sort(), [...CERTIFICATE_LIST_NAMES].sort());
    for (const list of CERTIFICATE_LIST_NAMES) assert.ok(list in serverInputSchema.shape, `provider Server.${list}`);
    // The compiler holds the component's side: every list is an optional array of certificates there.
    const lists: Required<Pick<WebServerTrustArgs, (typeof CERTIFICATE_LIST_NAMES)[number]>> = { roots: [], intermediates: [], crossSigned: [], clientAuthIssuers: [], distrusted: [] };
    assert.deepEqual(Object.keys(lists).sort(), [...CERTIFICATE_LIST_NAMES].sort());
  });
});
