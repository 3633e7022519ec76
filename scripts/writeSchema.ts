// `npm run schema`: writes schema.json (the package schema the plugin serves) for SDK generators and readers.
// A unit test fails when the committed file differs from what the code serves.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { PACKAGE_SCHEMA } from "../components/provider/schema";

export const SCHEMA_PATH = resolve(__dirname, "../../schema.json");

export function renderSchema(): string {
  return JSON.stringify(PACKAGE_SCHEMA, null, 2) + "\n";
}

if (require.main === module) {
  writeFileSync(SCHEMA_PATH, renderSchema());
  console.log(`wrote ${SCHEMA_PATH}`);
}
