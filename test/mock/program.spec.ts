import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";

// The program's config handling under the real SDK's config store (the engine is mocked by fleet.spec.ts).
describe("the program's stack config", () => {
  const server = { name: "web01", host: "10.0.0.5", platform: "debian", hostKey: "SHA256:" + "A".repeat(43) };
  const runWith = (config: Record<string, string>, secretKeys: string[] = []) => {
    pulumi.runtime.setAllConfig(config, secretKeys);
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
    assert.deepEqual(namespaceValues({ "trusted-roots:mode": "exact", "trusted-roots:retainOnDelete": "true", "trusted-roots:rollout": '{"percent":50}', "aws:region": "x" }, () => false), {
      mode: "exact",
      retainOnDelete: true,
      rollout: { percent: 50 },
    });
  });

  describe("no secret value reaches a message, whatever it looks like", () => {
    // Values that the JSON parser (and Pulumi's getSecretObject) would quote in an error if they were parsed.
    const lookalikes = {
      json: "[hunter2 is not JSON",
      object: '{"user": hunter3}',
      yaml: "pass: hunter4\n- item",
      pem: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQhunter5\n-----END OPENSSH PRIVATE KEY-----\n",
    };
    const fragments = ["hunter2", "hunter3", "hunter4", "hunter5"];
    const secretKeys = ["privateKey", "passphrase", "password", "healthClientKey", "bastionPrivateKey", "ldapPassword", "proxyCredentials"];

    const messageOf = async (run: () => Promise<unknown>): Promise<string> => {
      try {
        await run();
      } catch (error) {
        return String((error as Error).message);
      }
      return "";
    };

    for (const [shape, value] of Object.entries(lookalikes)) {
      it(`secret keys holding ${shape}-like text: the config error names the real problem and quotes no secret`, async () => {
        const config: Record<string, string> = { "trusted-roots:servers": JSON.stringify([server]), "trusted-roots:mdoe": "additive" };
        for (const key of secretKeys) config[`trusted-roots:${key}`] = value;
        const message = await messageOf(runWith(config, secretKeys.map((key) => `trusted-roots:${key}`)));
        assert.match(message, /trusted-roots:mdoe: unknown key/);
        for (const fragment of fragments) assert.equal(message.includes(fragment), false, `${fragment} in: ${message}`);
      });
    }

    it("privateKeys that is not a JSON map: named, with the fix, and its text not shown", async () => {
      for (const value of Object.values(lookalikes)) {
        const message = await messageOf(runWith({ "trusted-roots:servers": JSON.stringify([server]), "trusted-roots:privateKeys": value }, ["trusted-roots:privateKeys"]));
        assert.match(message, /^trusted-roots:privateKeys: not a map of server name to PEM private key \(the value is a secret and not shown\); set each with/);
        for (const fragment of fragments) assert.equal(message.includes(fragment), false, `${fragment} in: ${message}`);
      }
    });

    it("a key the stack stores encrypted, though the fleet schema reads it, is not quoted when its JSON is broken", async () => {
      const message = await messageOf(runWith({ "trusted-roots:servers": '[{"name": "hunter2"' }, ["trusted-roots:servers"]));
      assert.match(message, /^trusted-roots:servers: not valid JSON \(the value is a secret and not shown\)/);
      assert.equal(message.includes("hunter2"), false, message);
    });
  });
});
