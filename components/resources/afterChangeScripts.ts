import type { PlatformName, RemoteScript } from "../platforms";
import { shQuote } from "../platforms/shell";
import { windowsScript } from "../platforms/windowsTransport";

export const RESTART_PRESETS = ["iis", "nginx", "apache", "tomcat", "jetty"] as const;
export type RestartPreset = (typeof RESTART_PRESETS)[number];

const POSIX_PRESETS: Record<Exclude<RestartPreset, "iis">, string> = {
  // Test the configuration first: a reload with a broken config would take the site down.
  nginx: "nginx -t && { systemctl reload nginx || nginx -s reload; }",
  apache: "apachectl -t && { systemctl reload apache2 || systemctl reload httpd || apachectl graceful; }",
  // A JVM reads its truststore when the connector starts: a restart, not a reload. The unit is named after the
  // major version on Debian and Ubuntu (tomcat10, tomcat9, jetty9), plain elsewhere.
  tomcat: "systemctl restart tomcat10 || systemctl restart tomcat9 || systemctl restart tomcat",
  jetty: "systemctl restart jetty12 || systemctl restart jetty9 || systemctl restart jetty",
};

/**
 * Restarts IIS's worker service. It does not restart HTTP.sys or LSASS, where SChannel decides whether a client
 * certificate's root is trusted: after a root store change the Windows default is a reboot (see docs/windows.md).
 */
const IIS_PRESET = "Restart-Service -Name W3SVC -Force";

// Runs the operator's PowerShell one top-level statement at a time in one scope, so that a native command
// failing anywhere (not only last) fails the whole command, as `set -e` would: PowerShell 5.1 itself ignores a
// native command's exit code unless it is the last thing a script does. A top-level `exit N` is honoured.
// A statement that runs a native program runs under $ErrorActionPreference 'Continue': Windows PowerShell 5.1
// turns such a program's first stderr line into a terminating error under 'Stop' once stderr is redirected, so a
// tool that writes progress to stderr and exits 0 would fail. There the exit code decides, stderr stays text,
// and any other error the statement recorded still fails the command (even one silenced with -ErrorAction
// SilentlyContinue: use Ignore there). Other statements keep the preference the command set ('Stop' unless it
// changed it).
const USER_COMMAND_BODY = String.raw`Write-Record 'begin command'
$trustedRootsParseErrors = $null
$trustedRootsAst = [System.Management.Automation.Language.Parser]::ParseInput($Data, [ref] $null, [ref] $trustedRootsParseErrors)
if (@($trustedRootsParseErrors).Count -gt 0) { Write-Failure 'parse' ('the command is not valid PowerShell: ' + $trustedRootsParseErrors[0].Message + ' (line ' + $trustedRootsParseErrors[0].Extent.StartLineNumber + ')'); return }
if ($null -ne $trustedRootsAst.ParamBlock -or $null -ne $trustedRootsAst.BeginBlock -or $null -ne $trustedRootsAst.ProcessBlock) { Write-Failure 'parse' 'the command may not have param, begin or process blocks; write plain statements'; return }
function Test-TrustedRootsRunsNative($Statement) {
  foreach ($command in $Statement.FindAll({ param($node) $node -is [System.Management.Automation.Language.CommandAst] }, $true)) {
    $name = $command.GetCommandName()
    if (($null -eq $name) -or ($null -ne $ExecutionContext.InvokeCommand.GetCommand($name, 'Application'))) { return $true }
  }
  return $false
}
foreach ($trustedRootsStatement in @($trustedRootsAst.EndBlock.Statements)) {
  $trustedRootsWhere = ' (line ' + $trustedRootsStatement.Extent.StartLineNumber + ': ' + $trustedRootsStatement.Extent.Text + ')'
  $global:LASTEXITCODE = 0
  $trustedRootsNative = Test-TrustedRootsRunsNative $trustedRootsStatement
  $trustedRootsPreference = $ErrorActionPreference
  $Error.Clear()
  try {
    if ($trustedRootsStatement -is [System.Management.Automation.Language.ExitStatementAst]) {
      $trustedRootsCode = 0
      if ($null -ne $trustedRootsStatement.Pipeline) { $trustedRootsCode = [int] (. ([ScriptBlock]::Create($trustedRootsStatement.Pipeline.Extent.Text))) }
      if ($trustedRootsCode -ne 0) { Write-Failure 'exit' ('the command exited with ' + $trustedRootsCode + $trustedRootsWhere); return }
      break
    }
    if ($trustedRootsNative) { $ErrorActionPreference = 'Continue' }
    . ([ScriptBlock]::Create($trustedRootsStatement.Extent.Text))
  } catch { Write-Failure 'error' ($_.Exception.Message + $trustedRootsWhere); return } finally { if ($trustedRootsNative) { $ErrorActionPreference = $trustedRootsPreference } }
  if ($LASTEXITCODE -ne 0) { Write-Failure 'native' ('a native command exited with ' + $LASTEXITCODE + $trustedRootsWhere); return }
  if ($trustedRootsNative) {
    foreach ($trustedRootsError in @($Error)) {
      if (($trustedRootsError -is [System.Management.Automation.ErrorRecord]) -and ($trustedRootsError.FullyQualifiedErrorId -notlike 'NativeCommandError*')) { Write-Failure 'error' ($trustedRootsError.Exception.Message + $trustedRootsWhere); return }
    }
  }
}
Write-Record 'done'`;

/**
 * A command the operator wrote (a preset's or their own), run as a whole script by the host's shell.
 * It is the user's program by design; no value is ever spliced into it. On Windows it travels on stdin as
 * data, so its length is bound by nothing cmd.exe imposes.
 */
export function userCommand(platform: PlatformName, command: string): RemoteScript {
  if (platform === "windows") return windowsScript(USER_COMMAND_BODY, command);
  return { command: "/bin/sh -s", stdin: `${command}\n`, elevation: "sudo" };
}

export function restartScript(platform: PlatformName, preset: RestartPreset): RemoteScript {
  if (preset === "iis") {
    if (platform !== "windows") throw new Error(`the "iis" restart preset is for Windows servers, not ${platform}`);
    return userCommand(platform, IIS_PRESET);
  }
  if (platform === "windows") {
    const byName = preset === "tomcat" ? ' (service: "Tomcat10", as the Tomcat installer names it)' : "";
    throw new Error(`the "${preset}" restart preset is for Linux servers; on Windows use "iis", a service by name${byName}, or a command`);
  }
  return userCommand(platform, POSIX_PRESETS[preset]);
}

const SERVICE_RESTART_BODY = `Write-Record 'begin restart'
Restart-Service -Name $Data -Force
Write-Record 'done'`;

/** Restart a service by name: the name is data (stdin on Windows, a quoted word on POSIX), never code. */
export function serviceRestartScript(platform: PlatformName, service: string): RemoteScript {
  // Quoting stops the shell, not the command: `service --help restart` would run `service --help`.
  if (service.startsWith("-") || service.trim() === "") {
    throw new Error(`service name ${JSON.stringify(service)} cannot be restarted: a name may not be empty or start with "-"`);
  }
  if (platform === "windows") return windowsScript(SERVICE_RESTART_BODY, service);
  return { command: "/bin/sh -s", stdin: `systemctl restart -- ${shQuote(service)} || service ${shQuote(service)} restart\n`, elevation: "sudo" };
}
