import { execFile } from "node:child_process";
import { resolve } from "node:path";

const CLI = resolve(__dirname, "../../components/cli/main.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the `trusted-roots` command as a user would: its exit code and both streams. */
export function runCli(args: string[], env: Record<string, string>, cwd?: string): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile("node", [CLI, ...args], { cwd, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolvePromise({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
