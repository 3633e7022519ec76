import { parse } from "yaml";
import { CONFIG_NAMESPACE } from "./schema";

export interface StackFileConfig {
  /** The `trusted-roots:*` values without their namespace, as `pulumi.Config.getObject` would return them. */
  values: Record<string, unknown>;
  /** Keys stored encrypted (`secure:`): their values come from the environment or the Pulumi CLI, never from here. */
  secureKeys: string[];
}

/** Read a `Pulumi.<stack>.yaml` file's `trusted-roots:` config. */
export function readStackConfig(yamlText: string, fileName: string): StackFileConfig {
  let document: unknown;
  try {
    document = parse(yamlText);
  } catch (error) {
    throw new Error(`${fileName}: not valid YAML: ${(error as Error).message}`);
  }
  const config = (document as { config?: Record<string, unknown> } | null)?.config ?? {};
  const values: Record<string, unknown> = {};
  const secureKeys: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!key.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
    const name = key.slice(CONFIG_NAMESPACE.length + 1);
    if (value && typeof value === "object" && "secure" in value) secureKeys.push(name);
    else values[name] = value;
  }
  return { values, secureKeys };
}
