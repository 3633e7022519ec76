import { z } from "zod";
import { describeStderr } from "./clixml";
import { decodeField, parseRecords, type ProtocolRecord } from "./protocol";
import type { CommandOutput, RemoteScript } from "./types";

/**
 * How every command reaches a Windows server through Win32-OpenSSH, the way Ansible does it: the command line
 * is one small fixed bootstrap (`powershell ... -EncodedCommand`), and the script and its data travel on stdin.
 *
 * Why: sshd runs an exec request as `cmd.exe /c "<command>"` (or `powershell -c`), and cmd.exe refuses any
 * line over 8,191 characters. Why stdin is base64 lines: `$input` is decoded by the console's OEM code page
 * (437, 850, 932...), which leaves ASCII alone; the bootstrap then decodes the UTF-8 bytes itself, so
 * "Zürich" and CJK subjects arrive intact whatever the code page or DefaultShell.
 */

/** cmd.exe's limit on a command line [KB830473]. */
export const CMD_EXE_MAX_CHARACTERS = 8191;
/** What the tool allows itself, leaving room for a longer shell path or a changed wrapper. */
export const COMMAND_LINE_BUDGET = CMD_EXE_MAX_CHARACTERS - 1024;

/** The lines sshd builds from a command, for DefaultShell cmd.exe (the default) and powershell.exe. */
export function shellLines(command: string): { cmd: string; powershell: string } {
  return {
    cmd: `"C:\\Windows\\system32\\cmd.exe" /c "${command}"`,
    // Win32-OpenSSH 8.1+ escapes inner quotes for non-cmd shells; 7.7 passes them as they are.
    powershell: `"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -c "${command.replace(/"/g, '\\"')}"`,
  };
}

/** `-EncodedCommand` takes base64 of UTF-16LE without a byte order mark. */
export function encodePowerShell(script: string): string {
  return Buffer.from(script, "utf16le").toString("base64");
}

// Runs before anything else and must work in any language mode long enough to say why it cannot go on.
// It holds no data and never changes: only these lines are ever on the command line. Records it prints:
// `@@refused language-mode <mode>`, `@@failed bootstrap|script <base64 detail>`. Every exit is 0 on purpose:
// under DefaultShell powershell every non-zero code arrives as 1, so results travel only in records.
export const BOOTSTRAP_SCRIPT = [
  "$ErrorActionPreference='Stop';$ProgressPreference='SilentlyContinue'",
  "if($ExecutionContext.SessionState.LanguageMode-ne'FullLanguage'){'@@refused language-mode '+$ExecutionContext.SessionState.LanguageMode;exit 0}",
  "function F($k,$m){[Console]::Out.WriteLine('@@failed '+$k+' '+[Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes([string]$m)))}",
  "try{$l=@($input);$u=New-Object Text.UTF8Encoding($false,$true)",
  "$s=[ScriptBlock]::Create($u.GetString([Convert]::FromBase64String([string]$l[0])))",
  "$d=$u.GetString([Convert]::FromBase64String([string]$l[1]))}catch{F bootstrap $_.Exception.Message;exit 0}",
  "try{&$s $d}catch{F script ($_.Exception.Message+' (line '+$_.InvocationInfo.ScriptLineNumber+')')}",
  "exit 0",
].join("\n");

export const BOOTSTRAP_COMMAND = `powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${encodePowerShell(BOOTSTRAP_SCRIPT)}`;

/**
 * PowerShell every script starts with: its data as the only parameter, and the record writers. A record is
 * `@@<kind> <field>...` on one line, host data in base64, so no byte a host holds can forge one.
 */
const SCRIPT_HEADER = `param([string] $Data)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
function ConvertTo-RecordField([string] $Text) { return [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Text)) }
function Write-Record([string] $Line) { [Console]::Out.WriteLine('@@' + $Line) }
function Write-Failure([string] $Step, [string] $Detail) { Write-Record ('failed ' + $Step + ' ' + (ConvertTo-RecordField $Detail)) }`;

/** A script for the bootstrap: it runs with `$Data` (a string, often JSON) and prints `@@` records. */
export function windowsScript(body: string, data = ""): RemoteScript {
  const script = `${SCRIPT_HEADER}\n${body}\n`;
  const line = (text: string) => Buffer.from(text, "utf8").toString("base64");
  return { command: BOOTSTRAP_COMMAND, stdin: `${line(script)}\n${line(data)}\n`, elevation: "none", check: windowsCommandFailure };
}

/** A refusal before any script ran: the language mode, the bootstrap, cmd.exe. Undefined when a script ran. */
export function windowsRefusal(output: CommandOutput): string | undefined {
  const records = parseRecords(output.stdout);
  const refused = records.find((record) => record.kind === "refused");
  if (refused) {
    return (
      `PowerShell runs in ${refused.fields[1] ?? "a restricted"} mode here (AppLocker or WDAC enforce it), where X509Store and ` +
      "the .NET calls this tool needs are blocked; nothing ran. Exempt the deploy account from the policy, or manage this server another way"
    );
  }
  const bootstrap = records.find((record) => record.kind === "failed" && record.fields[0] === "bootstrap");
  if (bootstrap) return `the PowerShell bootstrap could not read its script from stdin (${decodeField(bootstrap.fields[1])}); nothing ran`;
  if (!records.some((record) => record.kind === "begin")) {
    return `PowerShell did not start the script (no @@begin record; nothing ran): ${describeStderr(output.stderr)}`;
  }
  return undefined;
}

/** The failure a script reported (`@@failed <step> <detail>`), if any. */
export function reportedFailure(records: ProtocolRecord[]): { step: string; detail: string } | undefined {
  const failed = records.find((record) => record.kind === "failed");
  return failed ? { step: failed.fields[0] ?? "unknown", detail: decodeField(failed.fields[1]).trim() || "no detail" } : undefined;
}

/**
 * Whether a Windows command worked, from its records alone: `@@done` is success; anything else names what
 * went wrong. The exit code is never read (see BOOTSTRAP_SCRIPT).
 */
export function windowsCommandFailure(output: CommandOutput): string | undefined {
  const refusal = windowsRefusal(output);
  if (refusal) return refusal;
  const records = parseRecords(output.stdout);
  const failure = reportedFailure(records);
  if (failure) return `step "${failure.step}" failed: ${failure.detail}`;
  if (records.some((record) => record.kind === "done")) return undefined;
  return `the script ended without reporting a result (the session was cut, or the command called exit from inside a block): ${describeStderr(output.stderr)}`;
}

/** A list as ConvertTo-Json writes it: a one-element collection as the element, an empty one as null or nothing. */
export const jsonList = <T extends z.ZodTypeAny>(item: T) =>
  z.preprocess((value) => (value === null || value === undefined ? [] : Array.isArray(value) ? value : [value]), z.array(item));
