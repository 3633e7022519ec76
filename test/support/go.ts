import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";

const REPO = resolve(__dirname, "../../..");
const GO_ENV = resolve(REPO, "scripts/go-env.sh");

/**
 * Runs `go ARGS` in a directory with the project's Go settings (scripts/go-env.sh, sourced: the one place they
 * are written), so a test's build reuses the packages the toolchain's build left in Go's cache.
 */
export async function runGo(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)("bash", ["-c", '. "$0" && exec go "$@"', GO_ENV, ...args], { cwd, maxBuffer: 16 * 1024 * 1024 });
}

/**
 * Makes the module in `moduleDir` require the versions test/go/go.mod pins (not the trusted-roots SDK, which is
 * replaced by a path). They are the Pulumi CLI build's own versions of every shared dependency: a module that
 * requires them builds from packages already in Go's cache, where a fresh resolution of sdk/v3 alone picks older
 * gRPC and x/net and compiles them all again (about 100 CPU-seconds cold).
 */
export async function requireToolchainVersions(moduleDir: string): Promise<void> {
  const goMod = readFileSync(resolve(REPO, "test/go/go.mod"), "utf8");
  const pinned = [...goMod.matchAll(/^\t(\S+) (v\S+)/gm)].filter(([, module]) => !module.startsWith("github.com/trusted-roots/"));
  await runGo(["mod", "edit", ...pinned.map(([, module, version]) => `-require=${module}@${version}`)], moduleDir);
}
