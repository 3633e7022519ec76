import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigMap, Stack } from "@pulumi/pulumi/automation";
import { fleetFromStackConfig } from "../../components/program";
import { EngineProject, pulumiToolchain, setStackConfig } from "../support/engine";

// Secret config values shaped to be quoted by a parser's error (JSON, YAML, PEM), through the real engine:
// neither a failing config, nor a failing connection, nor the state, nor any pulumi command line shows them.
describe("secrets through the real Pulumi engine (no lab: the server is unreachable on purpose)", function () {
  this.timeout(600_000);
  const fragments = ["hunter2", "hunter3", "hunter4", "hunter5", "hunter6", "hunter7", "hunter8"];
  const secrets: Record<string, string> = {
    privateKey: "[hunter2 is not a key",
    password: '{"hunter3": true',
    passphrase: "pass: hunter4\n- list",
    healthClientKey: "-----BEGIN PRIVATE KEY-----\nhunter5AAAA\n-----END PRIVATE KEY-----\n",
    privateKeys: '{"web01": "-----BEGIN OPENSSH PRIVATE KEY-----\\nhunter6',
    ldapPassword: "[hunter7",
    proxyCredentials: "proxy:{hunter8",
  };
  const server = { name: "web01", host: "127.0.0.1", port: 1, platform: "debian", hostKey: "SHA256:" + "A".repeat(43) };
  let project: EngineProject;
  let stack: Stack;
  let argvLog: string;
  const printed: string[] = [];
  const onOutput = (text: string) => printed.push(text);
  const outcomeOf = async (run: () => Promise<unknown>): Promise<string> => {
    try {
      await run();
      return "";
    } catch (error) {
      return String((error as Error).message);
    }
  };
  const assertNoSecret = (text: string, where: string) => {
    for (const fragment of fragments) assert.equal(text.includes(fragment), false, `${fragment} in ${where}: ${text.slice(Math.max(0, text.indexOf(fragment) - 300), text.indexOf(fragment) + 100)}`);
  };
  const config = (values: Record<string, unknown>, secretValues: Record<string, string>): ConfigMap => ({
    ...Object.fromEntries(Object.entries(values).map(([key, value]) => [`trusted-roots:${key}`, { value: JSON.stringify(value) }])),
    ...Object.fromEntries(Object.entries(secretValues).map(([key, value]) => [`trusted-roots:${key}`, { value, secret: true }])),
  });

  before(async () => {
    // A wrapper in front of the real pulumi that records every command line, as `ps` would show it.
    const shims = mkdtempSync(join(tmpdir(), "trusted-roots-argv-"));
    argvLog = join(shims, "argv.log");
    writeFileSync(join(shims, "pulumi"), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec '${join(pulumiToolchain(), "pulumi")}' "$@"\n`);
    chmodSync(join(shims, "pulumi"), 0o755);
    project = new EngineProject([shims]);
    const program = async () => {
      const fleet = await fleetFromStackConfig(project.dir);
      return { report: fleet.report };
    };
    stack = await project.stack("secrets", program);
  });

  it("secrets are set through stdin: no pulumi command line carries one, and the stack file holds them encrypted", async () => {
    await setStackConfig(stack, config({ servers: [server], mdoe: "exact" }, secrets));
    const argv = readFileSync(argvLog, "utf8");
    assert.match(argv, /config set --secret --stack secrets trusted-roots:privateKey/);
    assertNoSecret(argv, "a pulumi command line");
    assertNoSecret(readFileSync(join(project.dir, "Pulumi.secrets.yaml"), "utf8"), "Pulumi.secrets.yaml");
    assert.equal((await stack.getConfig("trusted-roots:privateKey")).value, secrets.privateKey, "the value arrived whole");
  });

  it("a config error (a typo'd key) fails the preview naming the key, quoting no secret", async () => {
    const message = await outcomeOf(() => stack.preview({ onOutput }));
    assert.match(message, /trusted-roots:mdoe: unknown key; did you mean mode\?/);
    assertNoSecret(message + printed.join(""), "the preview's output");
  });

  it("privateKeys that is not a map fails naming the key, not its text", async () => {
    await stack.removeConfig("trusted-roots:mdoe");
    const message = await outcomeOf(() => stack.preview({ onOutput }));
    assert.match(message, /trusted-roots:privateKeys: not a map of server name to PEM private key \(the value is a secret and not shown\)/);
    assertNoSecret(message + printed.join(""), "the preview's output");
  });

  it("with the config valid, an up that cannot parse the key or reach the host quotes no secret, nor does the state", async () => {
    await stack.removeConfig("trusted-roots:privateKeys");
    const message = await outcomeOf(() => stack.up({ onOutput }));
    assert.match(message, /127\.0\.0\.1/, "the up reached the provider, which names the host it could not use");
    assertNoSecret(message + printed.join(""), "the up's output");
    // The Automation API's exportStack passes --show-secrets; the state as stored is what `pulumi stack export` prints.
    const exported = execFileSync("pulumi", ["stack", "export", "--stack", "secrets"], { cwd: project.dir, env: { ...process.env, ...project.env }, encoding: "utf8" });
    assert.match(exported, /"ciphertext"/, "secrets are in the state, encrypted");
    assertNoSecret(exported, "the exported state");
    assertNoSecret(readFileSync(argvLog, "utf8"), "a pulumi command line");
  });
});
