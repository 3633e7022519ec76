// From the SDK's rpc module, not its index: see engineLog.ts.
import { isRpcSecret, specialSecretSig, specialSigKey, unwrapRpcSecret } from "@pulumi/pulumi/runtime/rpc";

/**
 * Values as a provider plugin receives and returns them. The engine sends secrets in wire form
 * (`{"4dabf...": "1b47...", "value": ...}`), at any depth; the implementations validate plain values, so they are
 * unwrapped first. Outputs that must stay secret are returned in that form again.
 */
export function plainValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainValues);
  if (value && typeof value === "object") {
    if (isRpcSecret(value)) return plainValues(unwrapRpcSecret(value));
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        // A state written by 0.1's dynamic providers carries its serialized provider; it means nothing here.
        .filter(([key]) => key !== "__provider")
        .map(([key, item]) => [key, plainValues(item)]),
    );
  }
  return value;
}

/** The same object with the named top-level properties as secrets, the way the engine stores them encrypted. */
export function withSecretProperties<T extends Record<string, unknown>>(outputs: T, secretKeys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(outputs).map(([key, value]) =>
      secretKeys.includes(key) && value !== undefined ? [key, { [specialSigKey]: specialSecretSig, value }] : [key, value],
    ),
  );
}

/** The type token inside a URN (`urn:pulumi:stack::project::parent$type::name`). */
export function typeOfUrn(urn: string): string {
  const qualifiedType = urn.split("::")[2] ?? "";
  return qualifiedType.slice(qualifiedType.lastIndexOf("$") + 1);
}
