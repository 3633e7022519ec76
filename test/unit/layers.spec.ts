import { strict as assert } from "node:assert";
import { resolve } from "node:path";
import { ESLint } from "eslint";

const REPO = resolve(__dirname, "../../..");

// The lint step holds the layers (eslint.config.mjs): these prove the rule bites, so a green lint means something.
describe("layers: no import from a higher floor", function () {
  this.timeout(60_000);
  const eslint = new ESLint({ cwd: REPO });
  const restricted = async (filePath: string, code: string) =>
    (await eslint.lintText(code, { filePath: resolve(REPO, filePath) }))[0].messages.filter((message) => message.ruleId === "no-restricted-imports").map((message) => message.message);

  it("a platform file importing the planner, transport importing the stack config, resources importing a component: refused", async () => {
    assert.match((await restricted("components/platforms/example.ts", 'export { plan } from "../plan";\n')).join(), /platforms is on floor 2 .* may not import from a higher floor/);
    assert.equal((await restricted("components/transport/example.ts", 'import type { FleetConfig } from "../config/schema";\nexport type F = FleetConfig;\n')).length, 1);
    assert.equal((await restricted("components/resources/example.ts", 'import type { FleetServer } from "../TrustFleet";\nexport type F = FleetServer;\n')).length, 1);
    assert.equal((await restricted("components/WebServerTrust.ts", 'export { loadFleetArgs } from "./config/load";\n')).length, 1);
  });

  it("imports from lower floors and within a folder pass", async () => {
    assert.deepEqual(await restricted("components/plan/example.ts", 'export { PLATFORMS } from "../platforms";\nexport { toPem } from "../certificates";\n'), []);
    assert.deepEqual(await restricted("components/provider/example.ts", 'export { TrustFleet } from "../TrustFleet";\nexport { loadFleetArgs } from "../config/load";\n'), []);
    assert.deepEqual(await restricted("components/platforms/example.ts", 'export { shQuote } from "./shell";\n'), []);
  });
});
