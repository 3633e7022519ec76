import { closest, distance } from "fastest-levenshtein";
import type { z } from "zod";

// zod keeps each schema's structure in `_zod.def`; only the fields needed to find an object's keys are read.
interface SchemaNode {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, SchemaNode>;
      element?: SchemaNode;
      valueType?: SchemaNode;
      innerType?: SchemaNode;
      options?: SchemaNode[];
      in?: SchemaNode;
    };
  };
}

const WRAPPERS = new Set(["optional", "default", "prefault", "nullable", "readonly", "catch"]);

function unwrap(node: SchemaNode): SchemaNode {
  let current = node;
  for (;;) {
    const def = current._zod.def;
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === "pipe" && def.in) current = def.in;
    else return current;
  }
}

/** The keys the object schema at `path` inside `schema` accepts; for a union, every option's keys. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const walk = (node: SchemaNode, rest: readonly PropertyKey[]): string[] => {
    const def = unwrap(node)._zod.def;
    if (def.type === "union") return [...new Set(def.options!.flatMap((option) => walk(option, rest)))];
    if (rest.length === 0) return def.type === "object" ? Object.keys(def.shape!) : [];
    const [head, ...tail] = rest;
    if (def.type === "object") return def.shape![String(head)] ? walk(def.shape![String(head)], tail) : [];
    if (def.type === "array" && def.element) return walk(def.element, tail);
    if (def.type === "record" && def.valueType) return walk(def.valueType, tail);
    return [];
  };
  return walk(schema as unknown as SchemaNode, path);
}

/** "did you mean mode?" for a near miss (a typo, another case), otherwise the list of valid keys. */
export function suggestKey(unknown: string, valid: readonly string[]): string {
  if (valid.length === 0) return "remove it";
  const caseFold = valid.find((key) => key.toLowerCase() === unknown.toLowerCase());
  const nearest = caseFold ?? closest(unknown, [...valid]);
  if (caseFold || distance(unknown, nearest) <= Math.max(2, Math.floor(unknown.length / 3))) return `did you mean ${nearest}?`;
  return `valid keys here: ${valid.join(", ")}`;
}
