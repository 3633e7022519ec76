import { z } from "zod";

// Pulumi's package schema from the zod schemas the provider validates with: zod writes JSON Schema (named types
// become references through `uri`), and this module narrows it to what Pulumi's schema can say. Descriptions,
// defaults and secrets are declared once, on the zod side, with `.meta()`:
//   description   the property's text; "{default}" in it shows the zod default (e.g. "SSH port ({default}).")
//   secret        the property is a Pulumi secret
//   pulumiType    an input validated elsewhere (z.unknown(): it may hold Outputs) that is this named type, or
//                 this primitive (a secret string a program passes as an Output)
// Pulumi needs a named type for every object it describes field by field; an object without a name is a map
// of `pulumi.json#/Any` (what the observation's entries are).

type Json = Record<string, unknown>;

export interface PulumiProperty {
  type?: string;
  $ref?: string;
  items?: PulumiProperty;
  additionalProperties?: PulumiProperty;
  oneOf?: PulumiProperty[];
  description?: string;
  secret?: boolean;
}

export interface PulumiObject {
  properties: Record<string, PulumiProperty>;
  required: string[];
  description?: string;
}

const ANY: PulumiProperty = { $ref: "pulumi.json#/Any" };
const PRIMITIVES = new Set(["string", "number", "integer", "boolean"]);

/** JSON Schema of every schema in `named` (by id), for input or output, with references as Pulumi's `#/types/...`. */
export function jsonSchemas(named: Record<string, z.ZodType>, io: "input" | "output", typeRef: (id: string) => string): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  // unrepresentable "any": refinements and transforms have no JSON Schema; they stay the provider's check.
  return z.toJSONSchema(registry, { io, unrepresentable: "any", uri: typeRef }).schemas as Record<string, Json>;
}

function describe(json: Json, where: string): string | undefined {
  const text = json.description as string | undefined;
  if (text === undefined || !text.includes("{default}")) return text;
  if (!("default" in json)) throw new Error(`${where}: its description shows {default}, but the zod schema has no default`);
  return text.replace("{default}", String(json.default));
}

function withEnum(description: string | undefined, values: readonly unknown[]): string {
  return `${description ? `${description} ` : ""}One of: ${values.join(", ")}.`;
}

/** One property's Pulumi spec from its JSON Schema. */
export function pulumiProperty(json: Json, where: string, typeRef: (id: string) => string): PulumiProperty {
  const description = describe(json, where);
  const annotations: PulumiProperty = { ...(description !== undefined ? { description } : {}), ...(json.secret === true ? { secret: true } : {}) };
  const spec = (shape: PulumiProperty): PulumiProperty => ({ ...shape, ...annotations });
  if (typeof json.pulumiType === "string") return spec(PRIMITIVES.has(json.pulumiType) ? { type: json.pulumiType } : { $ref: typeRef(json.pulumiType) });
  if (typeof json.$ref === "string") return spec({ $ref: json.$ref });
  if (Array.isArray(json.enum)) return { type: "string", ...annotations, description: withEnum(description, json.enum) };
  if ("const" in json) return { type: "string", ...annotations, description: withEnum(description, [json.const]) };
  if (Array.isArray(json.type)) return spec({ oneOf: (json.type as string[]).map((type) => ({ type })) });
  const alternatives = (json.anyOf ?? json.oneOf) as Json[] | undefined;
  if (alternatives) {
    if (!alternatives.every((alternative) => PRIMITIVES.has(alternative.type as string))) throw new Error(`${where}: a union of objects needs a named type of its own`);
    return spec({ oneOf: alternatives.map((alternative) => ({ type: alternative.type as string })) });
  }
  if (json.type === "array") return spec({ type: "array", items: pulumiProperty(json.items as Json, `${where}[]`, typeRef) });
  if (json.type === "object") {
    const values = json.additionalProperties;
    if (json.properties === undefined && values && typeof values === "object") return spec({ type: "object", additionalProperties: pulumiProperty(values as Json, `${where}{}`, typeRef) });
    return spec({ type: "object", additionalProperties: ANY });
  }
  if (PRIMITIVES.has(json.type as string)) return spec({ type: json.type as string });
  if (Object.keys(json).every((key) => key === "description" || key === "secret" || key === "default")) return spec(ANY);
  throw new Error(`${where}: Pulumi's schema has no form for ${JSON.stringify(json)}`);
}

/**
 * An object type's properties and required keys. A union of objects (a discriminated union) becomes one object
 * with every option's properties: Pulumi has no unions of objects; the discriminator lists its values.
 */
export function pulumiObject(json: Json, where: string, typeRef: (id: string) => string): PulumiObject {
  const options = (json.oneOf ?? json.anyOf) as Json[] | undefined;
  const description = describe(json, where);
  const merged = options ? mergeOptions(options) : { properties: (json.properties ?? {}) as Record<string, Json>, required: (json.required ?? []) as string[] };
  return {
    ...(description !== undefined ? { description } : {}),
    properties: Object.fromEntries(Object.entries(merged.properties).map(([key, property]) => [key, pulumiProperty(property, `${where}.${key}`, typeRef)])),
    required: merged.required,
  };
}

function mergeOptions(options: readonly Json[]): { properties: Record<string, Json>; required: string[] } {
  const properties: Record<string, Json> = {};
  for (const option of options) {
    for (const [key, property] of Object.entries((option.properties ?? {}) as Record<string, Json>)) {
      const earlier = properties[key];
      if (!earlier) properties[key] = property;
      else if ("const" in property) {
        // The discriminator: each option's literal joins the list of values.
        const { const: first, ...rest } = earlier;
        properties[key] = { ...rest, enum: [...((earlier.enum as unknown[] | undefined) ?? [first]), property.const] };
      }
    }
  }
  const requiredLists = options.map((option) => (option.required ?? []) as string[]);
  const required = requiredLists[0]?.filter((key) => requiredLists.every((list) => list.includes(key))) ?? [];
  return { properties, required };
}
