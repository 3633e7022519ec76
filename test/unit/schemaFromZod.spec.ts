import { strict as assert } from "node:assert";
import { z } from "zod";
import { jsonSchemas, pulumiObject } from "../../components/provider/schemaFromZod";
import { PACKAGE_SCHEMA } from "../../components/provider/schema";
import { DEFAULT_SSH_PORT, DEFAULT_SSH_USER } from "../../components/transport/target";
import { AFTER_CHANGE_SECRET_INPUTS, REBOOT_DELAY_SECONDS } from "../../components/resources/afterChangeCore";
import { TRUST_STORE_SECRET_INPUTS } from "../../components/resources/trustStoreCore";

const typeRef = (id: string) => `#/types/test:index:${id}`;

/** A zod model through the generator, as Pulumi objects by id. */
function generate(named: Record<string, z.ZodType>, io: "input" | "output" = "input") {
  const schemas = jsonSchemas(named, io, typeRef);
  return (id: string) => pulumiObject(schemas[id], id, typeRef);
}

describe("the Pulumi schema from zod (schemaFromZod)", () => {
  const key = z.object({ pem: z.string().meta({ description: "PEM." }), secretKey: z.string().meta({ description: "The key.", secret: true }) }).meta({ description: "A key pair." });
  const action = z
    .discriminatedUnion("action", [
      z.strictObject({ action: z.literal("none").meta({ description: "What to do." }) }),
      z.strictObject({ action: z.literal("wait"), seconds: z.number().int().default(5).meta({ description: "How long ({default})." }) }),
    ])
    .meta({ description: "An action." });
  const thing = z
    .object({
      name: z.string().min(1).meta({ description: "The name." }),
      port: z.number().int().min(1).default(22).meta({ description: "Port ({default}); any." }),
      color: z.enum(["red", "blue"]).optional().meta({ description: "The color." }),
      agent: z.union([z.string(), z.boolean()]).optional().meta({ description: "Socket or true." }),
      keys: z.record(z.string(), key).meta({ description: "Keys by name." }),
      key: key.optional().meta({ description: "The key, here.", secret: true }),
      entries: z.array(z.object({ a: z.string() })).meta({ description: "Loose entries." }),
      action: action.optional(),
      given: z.unknown().meta({ pulumiType: "Key", description: "Checked elsewhere." }),
    })
    .refine(() => true, "refinements stay the validator's");

  it("names types by reference, keeps descriptions, secrets, enums and unions, and shows defaults where the text asks", () => {
    const object = generate({ Key: key, Action: action, Thing: thing });
    assert.deepEqual(object("Thing"), {
      properties: {
        name: { type: "string", description: "The name." },
        port: { type: "integer", description: "Port (22); any." },
        color: { type: "string", description: "The color. One of: red, blue." },
        agent: { oneOf: [{ type: "string" }, { type: "boolean" }], description: "Socket or true." },
        keys: { type: "object", additionalProperties: { $ref: typeRef("Key") }, description: "Keys by name." },
        key: { $ref: typeRef("Key"), description: "The key, here.", secret: true },
        entries: { type: "array", items: { type: "object", additionalProperties: { $ref: "pulumi.json#/Any" } }, description: "Loose entries." },
        action: { $ref: typeRef("Action") },
        given: { $ref: typeRef("Key"), description: "Checked elsewhere." },
      },
      required: ["name", "keys", "entries", "given"],
    });
    assert.deepEqual(object("Key"), {
      description: "A key pair.",
      properties: { pem: { type: "string", description: "PEM." }, secretKey: { type: "string", description: "The key.", secret: true } },
      required: ["pem", "secretKey"],
    });
  });

  it("a discriminated union becomes one object: every option's fields, the discriminator's values listed, required only what all require", () => {
    assert.deepEqual(generate({ Action: action })("Action"), {
      description: "An action.",
      properties: {
        action: { type: "string", description: "What to do. One of: none, wait." },
        seconds: { type: "integer", description: "How long (5)." },
      },
      required: ["action"],
    });
  });

  it("outputs count defaults as always present", () => {
    assert.deepEqual(generate({ Key: key, Action: action, Thing: thing }, "output")("Thing").required, ["name", "port", "keys", "entries", "given"]);
  });

  it("refuses what Pulumi cannot say, naming the property: a stale {default}, a union of objects without a name", () => {
    const stale = z.object({ port: z.number().optional().meta({ description: "Port ({default})." }) });
    assert.throws(() => generate({ Stale: stale })("Stale"), /Stale\.port: its description shows \{default\}, but the zod schema has no default/);
    const union = z.object({ either: z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]) });
    assert.throws(() => generate({ Union: union })("Union"), /Union\.either: a union of objects needs a named type of its own/);
  });

  it("the package schema carries the zod side's secrets and defaults", () => {
    const types = PACKAGE_SCHEMA.types as Record<string, { properties: Record<string, { secret?: boolean; description?: string }> }>;
    const connection = types["trusted-roots:index:Connection"].properties;
    assert.deepEqual(Object.keys(connection).filter((name) => connection[name].secret), ["privateKey", "passphrase", "password"]);
    assert.equal(connection.port.description, `SSH port (${DEFAULT_SSH_PORT}).`);
    assert.match(connection.user.description ?? "", new RegExp(`^Login \\(${DEFAULT_SSH_USER}\\)`));
    const reboot = (PACKAGE_SCHEMA.resources as Record<string, { inputProperties: Record<string, { description?: string }> }>)["trusted-roots:index:HostReboot"];
    assert.equal(reboot.inputProperties.delaySeconds.description, `Delay before the reboot (${REBOOT_DELAY_SECONDS}).`);
  });

  it("the inputs the resources keep secret are the ones the zod side marks secret", () => {
    assert.deepEqual(TRUST_STORE_SECRET_INPUTS, ["connection", "keystorePassword"]);
    assert.deepEqual([...AFTER_CHANGE_SECRET_INPUTS].sort(), ["connection", "healthCheck"]);
    const resources = PACKAGE_SCHEMA.resources as Record<string, { inputProperties: Record<string, { secret?: boolean }> }>;
    const secretIn = (token: string) => Object.entries(resources[token].inputProperties).filter(([, spec]) => spec.secret).map(([name]) => name).sort();
    assert.deepEqual(secretIn("trusted-roots:index:TrustStore"), TRUST_STORE_SECRET_INPUTS);
    assert.deepEqual(secretIn("trusted-roots:index:HostReboot"), [...AFTER_CHANGE_SECRET_INPUTS].sort());
  });
});
