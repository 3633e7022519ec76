import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { strict as assert } from "node:assert";
import { promisify } from "node:util";
import { LocalWorkspace, type ConfigMap, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import type { CliResult } from "./cli";

const REPO = resolve(__dirname, "../../..");
let toolchainBin: string | undefined;

/** The directory holding `pulumi` and the YAML language host (built once, cached outside the repo). */
export function pulumiToolchain(): string {
  toolchainBin ??= execFileSync("bash", [join(REPO, "scripts/setup-pulumi.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
    .trim()
    .split("\n")
    .pop()!;
  return toolchainBin;
}

/** A scratch Pulumi project: local file backend, its own PULUMI_HOME, no network, the repo's node_modules. */
export class EngineProject {
  readonly dir: string;
  readonly stateDir: string;

  /** `pathPrefix`: directories searched before the toolchain (a test's wrapper around `pulumi`). */
  constructor(private readonly pathPrefix: string[] = []) {
    this.dir = mkdtempSync(join(tmpdir(), "trusted-roots-engine-"));
    this.stateDir = join(this.dir, "state");
    mkdirSync(this.stateDir);
    // The policy pack and 0.1 states (the upgrade test) resolve @pulumi/pulumi from the project directory.
    symlinkSync(join(REPO, "node_modules"), join(this.dir, "node_modules"));
  }

  get env(): Record<string, string> {
    const bin = pulumiToolchain();
    return {
      // The trusted-roots provider plugin from this checkout (bin/pulumi-resource-trusted-roots over dist/).
      PATH: [...this.pathPrefix, bin, join(REPO, "bin"), process.env.PATH].join(":"),
      PULUMI_HOME: join(this.dir, "pulumi-home"),
      PULUMI_BACKEND_URL: `file://${this.stateDir}`,
      PULUMI_CONFIG_PASSPHRASE: "trusted-roots-tests",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    };
  }

  /** An inline program (no language host needed) with this project's settings. */
  async stack(stackName: string, program: PulumiFn, extraEnv: Record<string, string> = {}): Promise<Stack> {
    // The Automation API runs `pulumi` from PATH; make the toolchain visible to it in this process too.
    process.env.PATH = this.env.PATH;
    return LocalWorkspace.createOrSelectStack(
      { stackName, projectName: "trusted-roots", program },
      { workDir: this.dir, envVars: { ...this.env, ...extraEnv }, projectSettings: { name: "trusted-roots", runtime: "nodejs" } },
    );
  }
}

/**
 * Set a stack's config: plain values as the Automation API does, secret ones through `pulumi config set --secret`
 * with the value on stdin. The Automation API passes every value as an argument (`config set-all --secret k=v`),
 * where any user of the machine reads it in `ps`; a private key must never travel that way.
 */
export async function setStackConfig(stack: Stack, config: ConfigMap): Promise<void> {
  const entries = Object.entries(config);
  const plain = Object.fromEntries(entries.filter(([, value]) => !value.secret));
  if (Object.keys(plain).length > 0) await stack.setAllConfig(plain);
  const workspace = stack.workspace as LocalWorkspace;
  for (const [key, { value }] of entries.filter(([, entry]) => entry.secret)) {
    await new Promise<void>((resolvePromise, reject) => {
      const child = execFile(
        "pulumi",
        ["config", "set", "--secret", "--stack", stack.name, key],
        { cwd: workspace.workDir, env: { ...process.env, ...workspace.envVars } },
        (error, _stdout, stderr) => (error ? reject(new Error(`pulumi config set --secret ${key}: ${stderr || error.message}`)) : resolvePromise()),
      );
      child.stdin!.end(value);
    });
  }
}

/** Plain `pulumi` as a user runs it (non-interactive), in `cwd` with `env` over this process's: its exit code and both streams. */
export async function runPulumi(args: string[], cwd: string, env: Record<string, string>): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)("pulumi", [...args, "--non-interactive"], { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** A pulumi command that must have succeeded; the failure shows the tail of both streams. */
export function assertSucceeded(result: CliResult, what: string): void {
  assert.equal(result.code, 0, `${what} failed (${result.code}):\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`);
}
