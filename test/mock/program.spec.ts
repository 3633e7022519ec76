import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";

// The program's config handling under the real SDK's config store (the engine is mocked by fleet.spec.ts).
describe("the program's stack config", () => {
  const server = { name: "web01", host: "10.0.0.5", platform: "debian", hostKey: "SHA256:" + "A".repeat(43) };
  const runWith = (config: Record<string, string>) => {
    pulumi.runtime.setAllConfig(config);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after setMocks
    const { fleetFromStackConfig } = require("../../components/program") as typeof import("../../components/program");
    return () => fleetFromStackConfig(__dirname);
  };

  it("a typo'd key ends the program with Pulumi's one-line error, naming the key and the fix", async () => {
    const run = runWith({ "trusted-roots:servers": JSON.stringify([server]), "trusted-roots:mdoe": "additive" });
    await assert.rejects(run, (error: unknown) => {
      assert.ok(error instanceof pulumi.RunError, `a RunError (printed without a stack trace), got ${String(error)}`);
      assert.match(error.message, /trusted-roots:mdoe: unknown key; did you mean mode\?/);
      return true;
    });
  });

  it("an empty config and broken JSON end the same way", async () => {
    await assert.rejects(runWith({}), (error: unknown) => error instanceof pulumi.RunError && /trusted-roots:servers: /.test(error.message));
    await assert.rejects(
      runWith({ "trusted-roots:servers": "[{\"name\": " }),
      (error: unknown) => error instanceof pulumi.RunError && /^trusted-roots:servers: not valid JSON/.test(error.message),
    );
  });

  it("reads every key of the namespace: values the engine passes as text become booleans and objects", () => {
    const { namespaceValues } = require("../../components/program") as typeof import("../../components/program"); // eslint-disable-line @typescript-eslint/no-require-imports
    assert.deepEqual(namespaceValues({ "trusted-roots:mode": "exact", "trusted-roots:retainOnDelete": "true", "trusted-roots:rollout": '{"percent":50}', "aws:region": "x" }), {
      mode: "exact",
      retainOnDelete: true,
      rollout: { percent: 50 },
    });
  });
});
