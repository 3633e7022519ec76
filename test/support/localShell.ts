import { spawn } from "node:child_process";
import type { RemoteScript } from "../../components/platforms";
import type { ExecResult, ScriptRunner } from "../../components/transport";

/**
 * Runs the scripts the platforms render in a local `sh`, as the SSH session would run them on a host
 * (command line, stdin, stdout/stderr, exit code), so the POSIX apply script's real behaviour can be tested
 * without a host: against a scratch store, never the machine's own.
 */
export class LocalShell implements ScriptRunner {
  readonly label = "local shell";
  readonly commands: string[] = [];

  exec(script: RemoteScript): Promise<ExecResult> {
    this.commands.push(script.stdin);
    return new Promise((resolve, reject) => {
      const child = spawn("sh", ["-c", script.command], { stdio: ["pipe", "pipe", "pipe"] });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      child.on("error", reject);
      child.on("close", (code, signal) =>
        resolve({ stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") + (signal ? `killed by ${signal}` : ""), exitCode: code ?? 128 }),
      );
      child.stdin.end(script.stdin);
    });
  }
}
