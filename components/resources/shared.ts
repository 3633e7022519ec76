// Types only: the scan and the config check load this module, and need not load the Pulumi SDK (a second of startup).
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { PLATFORM_NAMES } from "../platforms";
import { sshTargetSchema } from "../transport";
import { LEGACY_DYNAMIC_TYPE, PACKAGE_VERSION, type RESOURCE_NAMES } from "../typeTokens";

/** Connection settings as a resource input: the SSH target without its fill-in defaults, validated on use. */
export const connectionInputSchema = sshTargetSchema;
export type ConnectionInput = z.input<typeof sshTargetSchema>;
/** The connection and platform every resource of the plugin takes, as the schema describes them. */
export const connectionInput = connectionInputSchema.meta({ description: "How to reach the server over SSH; a secret in the state.", secret: true });
export const platformInput = z.enum(PLATFORM_NAMES).meta({ description: "The trust-store family." });
/** Written by the TypeScript SDK (the provider's state shape); `version` is this resource's. */
export const providerVersionInput = (version: string) => z.string().default(version).meta({ description: "Written by the TypeScript SDK; leave unset." });
/** Connection settings as resource arguments: any field may be an Output (a secret key, a computed host). */
export type ConnectionArgs = { [Key in keyof ConnectionInput]: pulumi.Input<ConnectionInput[Key]> };

/** The properties a schema marks `.meta({ secret: true })`: kept secret in the state whatever the caller passed. */
export function secretProperties(shape: Record<string, z.ZodType>): string[] {
  return Object.entries(shape)
    .filter(([, schema]) => schema.meta()?.secret === true)
    .map(([key]) => key);
}

/** Pulumi's placeholder for a value not known until apply (preview of a new dependency). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** zod issues as one sentence each, naming the property path the way Pulumi shows it. */
export function describeIssues(error: z.ZodError, prefix = ""): { property: string; reason: string }[] {
  return error.issues.map((issue) => ({
    property: prefix + issue.path.map((part, index) => (typeof part === "number" ? `[${part}]` : index === 0 && !prefix ? String(part) : `.${String(part)}`)).join(""),
    reason: issue.message,
  }));
}

/** JSON with object keys sorted, so values that went through protobuf Structs compare equal. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === "object" && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

/** Outputs for the engine: protobuf Structs cannot hold `undefined`, so such fields are left out. */
export function definedFields<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Provider inputs validated against their schema; the error lists every problem by property. */
export function parseInputs<Schema extends z.ZodType>(schema: Schema, inputs: unknown): z.output<Schema> {
  const parsed = schema.safeParse(inputs);
  if (!parsed.success) throw new Error(describeIssues(parsed.error).map((issue) => `${issue.property}: ${issue.reason}`).join("\n"));
  return parsed.data;
}

/**
 * Options every resource of the plugin registers with: the plugin version to run, the outputs kept secret, and
 * an alias to the dynamic-resource type 0.1 used, so an existing stack moves to the plugin in place.
 */
export function pluginResourceOptions(
  opts: pulumi.CustomResourceOptions,
  resourceName: (typeof RESOURCE_NAMES)[keyof typeof RESOURCE_NAMES],
  secretOutputs: readonly string[],
): pulumi.CustomResourceOptions {
  return {
    ...opts,
    version: opts.version ?? PACKAGE_VERSION,
    aliases: [...(opts.aliases ?? []), { type: LEGACY_DYNAMIC_TYPE(resourceName) }],
    additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), ...secretOutputs],
  };
}
