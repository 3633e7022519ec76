import { z } from "zod";
import { manifestBackupPath, renderManifest } from "./manifest";
import { declaredPathOf, keystoreFromBytes, keystoreKey, keystoreRoots, rewrittenKeystore, type JavaKeystoreLocation, type JavaKeystoreTarget } from "./java";
import { ProtocolError } from "./protocol";
import type { ObservedStore, Platform, RemoteScript, StorePlan } from "./types";
import { HOST_FACT_FUNCTIONS, LOCK_FUNCTIONS, manifestRecordFields, parseWindowsApply, readObservationJson, readWindowsManifest, windows, WINDOWS_MANIFEST_DIR, windowsDate } from "./windows";
import { MANIFEST_FILE_FUNCTIONS } from "./windowsManifestFiles";
import { jsonList, windowsScript } from "./windowsTransport";
import { KeystoreError } from "../keystores";

// A Java keystore on a Windows server, the way the Linux one works (java.ts): the host finds the file, hands its
// bytes over and puts new bytes in place under the host lock; reading and rewriting happen here, with the
// password, which reaches the host only as data on stdin and keytool only as a file in the administrators-only
// folder. Rendered and checked on Linux; no Windows machine runs it in this project (docs/windows.md).

/** Each declared keystore's manifest sits in a folder of its own under C:\ProgramData\trusted-roots\java. */
export function windowsJavaManifestDir(location: JavaKeystoreLocation): string {
  return `${WINDOWS_MANIFEST_DIR}\\java\\${keystoreKey(location)}`;
}

const manifestFiles = (location: JavaKeystoreLocation) => {
  const path = `C:\\ProgramData\\${windowsJavaManifestDir(location)}\\manifest.json`;
  return { path, backup: manifestBackupPath(path) };
};

// Where the keystore and keytool are, from data (kind, target), never from script text. A service reads the
// machine's JAVA_HOME, so `jvm` means that JDK, else the java.exe on PATH (Oracle's javapath entries are links
// into the JDK's bin: followed). Every path is a drive path checked on the deploying machine, and Windows allows
// no quote in a name, so quoting one for keytool's command line cannot be escaped.
const LOCATE_FUNCTIONS = String.raw`function Find-TrustedRootsOnPath([string] $Name) {
  $folders = @(([string] [Environment]::GetEnvironmentVariable('Path', 'Machine')).Split(';')) + @(([string] $env:Path).Split(';'))
  foreach ($folder in $folders) {
    if ([string]::IsNullOrWhiteSpace($folder)) { continue }
    try { $candidate = [IO.Path]::Combine([Environment]::ExpandEnvironmentVariables($folder.Trim().Trim('"')), $Name) } catch { continue }
    if ([IO.File]::Exists($candidate)) { return $candidate }
  }
  return $null
}
function Resolve-TrustedRootsLink([string] $Path) {
  $item = Get-Item -LiteralPath $Path -Force
  if ((($item.Attributes -band [IO.FileAttributes]::ReparsePoint) -ne 0) -and ($null -ne $item.Target)) {
    $target = [string] @($item.Target)[0]
    if (-not [IO.Path]::IsPathRooted($target)) { $target = [IO.Path]::Combine($item.DirectoryName, $target) }
    return [IO.Path]::GetFullPath($target)
  }
  return $Path
}
function Find-TrustedRootsKeystore($Request) {
  $found = [ordered]@{ Path = $null; Keytool = $null; Failure = $null }
  $kind = [string] $Request.kind
  $machineHome = [Environment]::GetEnvironmentVariable('JAVA_HOME', 'Machine')
  if ($kind -eq 'file') { $found.Path = [IO.Path]::GetFullPath([string] $Request.target) }
  else {
    if ($kind -eq 'jdk') { $javaHome = [string] $Request.target }
    elseif (-not [string]::IsNullOrEmpty($machineHome)) { $javaHome = $machineHome }
    else {
      $java = Find-TrustedRootsOnPath 'java.exe'
      if ($null -eq $java) { $found.Failure = 'no JAVA_HOME (machine) and no java.exe on PATH: install a JRE, or declare the JDK (kind jdk, javaHome)'; return $found }
      $javaHome = [IO.Path]::GetDirectoryName([IO.Path]::GetDirectoryName((Resolve-TrustedRootsLink $java)))
    }
    foreach ($relative in @('lib\security\cacerts', 'jre\lib\security\cacerts')) {
      $candidate = [IO.Path]::Combine($javaHome, $relative)
      if ([IO.File]::Exists($candidate)) { $found.Path = [IO.Path]::GetFullPath($candidate); break }
    }
    if ($null -eq $found.Path) { $found.Failure = 'no cacerts under ' + $javaHome + ' (lib\security or jre\lib\security): is it a JDK''s home?'; return $found }
    $keytool = [IO.Path]::Combine($javaHome, 'bin\keytool.exe')
    if ([IO.File]::Exists($keytool)) { $found.Keytool = $keytool }
  }
  if (($null -eq $found.Keytool) -and (-not [string]::IsNullOrEmpty($machineHome)) -and [IO.File]::Exists([IO.Path]::Combine($machineHome, 'bin\keytool.exe'))) { $found.Keytool = [IO.Path]::Combine($machineHome, 'bin\keytool.exe') }
  if ($null -eq $found.Keytool) { $found.Keytool = Find-TrustedRootsOnPath 'keytool.exe' }
  return $found
}
function Get-TrustedRootsFileDigest([string] $Path) { return (Get-TrustedRootsFileFacts $Path).Digest }
function Write-TrustedRootsJavaObservation($Request) {
  $observation = New-TrustedRootsObservation $Request
  $found = Find-TrustedRootsKeystore $Request
  $keystore = @{ Bytes = $null; Digest = 'absent' }
  if ($null -eq $found.Failure) { $keystore = Get-TrustedRootsFileFacts $found.Path }
  $observation.KeystorePath = $found.Path
  $observation.Keystore = $keystore.Bytes
  $observation.KeystoreDigest = $keystore.Digest
  $observation.Keytool = $found.Keytool
  $observation.LocateFailure = $found.Failure
  Write-Record ('observation ' + (ConvertTo-RecordField ($observation | ConvertTo-Json -Depth 6 -Compress)))
}`;

const OBSERVE_BODY = `${MANIFEST_FILE_FUNCTIONS}
${HOST_FACT_FUNCTIONS}
${LOCATE_FUNCTIONS}
$request = $Data | ConvertFrom-Json
Write-Record 'begin observe'
Write-TrustedRootsJavaObservation $request
Write-Record 'done'`;

// keytool runs as a process judged by its exit code (see REBOOT_BODY in windows.ts for why not through
// PowerShell's error stream); the password is a file only administrators can read, deleted when it returns.
// It checks the new bytes before they take the keystore's place.
const KEYTOOL_FUNCTION = String.raw`function Test-TrustedRootsKeystore([string] $Keytool, [string] $Keystore, [string] $Type, [string] $Password, [string] $Folder) {
  if ($Type -notmatch '^(JKS|PKCS12)$') { throw ('not a keystore type: ' + $Type) }
  $passwordFile = Join-Path $Folder 'storepass'
  $bytes = (New-Object Text.UTF8Encoding($false)).GetBytes($Password)
  $stream = New-Object IO.FileStream($passwordFile, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, [IO.FileShare]::None)
  try { $stream.Write($bytes, 0, $bytes.Length) } finally { $stream.Dispose() }
  try {
    $start = New-Object System.Diagnostics.ProcessStartInfo
    $start.FileName = $Keytool
    $start.Arguments = '-list -keystore "' + $Keystore + '" -storetype ' + $Type + ' -storepass:file "' + $passwordFile + '"'
    $start.UseShellExecute = $false
    $start.CreateNoWindow = $true
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $process = [System.Diagnostics.Process]::Start($start)
    $errorText = $process.StandardError.ReadToEndAsync()
    $outputText = $process.StandardOutput.ReadToEnd()
    $process.WaitForExit()
    if ($process.ExitCode -ne 0) { throw ('keytool could not read the new keystore with the password (exit ' + $process.ExitCode + '): ' + ($errorText.Result + ' ' + $outputText).Trim()) }
  } finally { [IO.File]::Delete($passwordFile) }
}`;

// A transaction folder beside the manifest records what an interrupted apply needs: the keystore's and the
// manifest's bytes before, the manifest planned, the digests before and after, and whether the keystore was
// replaced. The rule is the Linux one (java.ts): undo only while the keystore is what the apply left (new bytes,
// or the original); a keystore changed since is someone else's, and then only the planned manifest follows if
// the new bytes had gone in.
const TRANSACTION_FUNCTIONS = String.raw`function Set-TrustedRootsKeystoreBytes([string] $Path, [byte[]] $Bytes) {
  $staging = $Path + '.' + [Guid]::NewGuid().ToString('N') + '.trusted-roots-new'
  $stream = New-Object IO.FileStream($staging, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, [IO.FileShare]::None)
  try { $stream.Write($Bytes, 0, $Bytes.Length) } finally { $stream.Dispose() }
  # Replace keeps the keystore's ACL and owner; a keystore not there yet takes its folder's.
  if ([IO.File]::Exists($Path)) { [IO.File]::Replace($staging, $Path, $null) } else { [IO.File]::Move($staging, $Path) }
}
function Undo-TrustedRootsJavaTransaction([string] $Txn, $Paths) {
  $state = [IO.File]::ReadAllText((Join-Path $Txn 'state.json')) | ConvertFrom-Json
  if ((Get-TrustedRootsFileDigest $state.keystore) -ne [string] $state.original) {
    $original = Join-Path $Txn 'keystore.original'
    if ([IO.File]::Exists($original)) { Set-TrustedRootsKeystoreBytes $state.keystore ([IO.File]::ReadAllBytes($original)) }
    elseif ([IO.File]::Exists($state.keystore)) { [IO.File]::Delete($state.keystore) }
  }
  $manifest = Join-Path $Txn 'manifest.original'
  if ((Get-TrustedRootsFileDigest $Paths.Manifest) -eq (Get-TrustedRootsFileDigest $manifest)) { return }
  if ([IO.File]::Exists($manifest)) { Set-TrustedRootsManifest (Write-TrustedRootsStagingFile $Paths ([IO.File]::ReadAllBytes($manifest))) $Paths.Manifest $null }
  elseif ([IO.File]::Exists($Paths.Manifest)) { [IO.File]::Delete($Paths.Manifest) }
}
function Complete-TrustedRootsJavaTransactions($Paths) {
  $folder = @($Paths.Folders)[-1]
  $settled = $false
  if (-not [IO.Directory]::Exists($folder)) { return $settled }
  foreach ($txn in @([IO.Directory]::GetDirectories($folder, 'txn.*'))) {
    $statePath = Join-Path $txn 'state.json'
    if ([IO.File]::Exists((Join-Path $txn 'committed')) -or (-not [IO.File]::Exists($statePath))) { [IO.Directory]::Delete($txn, $true); continue }
    $state = [IO.File]::ReadAllText($statePath) | ConvertFrom-Json
    $now = Get-TrustedRootsFileDigest $state.keystore
    if (($now -eq [string] $state.new) -or ($now -eq [string] $state.original)) { Undo-TrustedRootsJavaTransaction $txn $Paths }
    elseif ([IO.File]::Exists((Join-Path $txn 'moved'))) { Set-TrustedRootsManifest (Write-TrustedRootsStagingFile $Paths ([IO.File]::ReadAllBytes((Join-Path $txn 'manifest.planned')))) $Paths.Manifest $null }
    $keystoreFolder = [IO.Path]::GetDirectoryName([string] $state.keystore)
    if ([IO.Directory]::Exists($keystoreFolder)) {
      foreach ($leftover in @([IO.Directory]::GetFiles($keystoreFolder, ([IO.Path]::GetFileName([string] $state.keystore) + '.*.trusted-roots-new')))) { [IO.File]::Delete($leftover) }
    }
    [IO.Directory]::Delete($txn, $true)
    $settled = $true
  }
  return $settled
}`;

const APPLY_BODY = `${MANIFEST_FILE_FUNCTIONS}
${HOST_FACT_FUNCTIONS}
${LOCATE_FUNCTIONS}
${LOCK_FUNCTIONS}
${KEYTOOL_FUNCTION}
${TRANSACTION_FUNCTIONS}
$payload = $Data | ConvertFrom-Json
Write-Record 'begin apply'
$paths = Get-TrustedRootsManifestPaths $payload
$mutex = Enter-TrustedRootsLock
if ($null -eq $mutex) {
  Write-Record 'rolled-back yes'
  Write-TrustedRootsJavaObservation $payload
  return
}
try {
  $refusal = $null
  if (Complete-TrustedRootsJavaTransactions $paths) { $refusal = @('conflict', 'an interrupted apply was found and settled (undone, or kept where the keystore changed since); observe again and re-plan') }
  else {
    $found = Find-TrustedRootsKeystore $payload
    if ($null -ne $found.Failure) { $refusal = @('prerequisite', $found.Failure) }
    elseif ($null -eq $found.Keytool) { $refusal = @('prerequisite', 'keytool.exe was not found (install a JRE and set JAVA_HOME, or declare the JDK with kind jdk and javaHome); nothing was changed') }
    elseif (((Get-TrustedRootsBasis $paths) -ne [string] $payload.basis) -or ((Get-TrustedRootsFileDigest $found.Path) -ne [string] $payload.keystoreBasis)) {
      $refusal = @('conflict', 'the keystore or its manifest changed after it was observed (another run, a JDK update?); observe again and re-plan')
    }
  }
  if ($null -ne $refusal) {
    Write-Failure $refusal[0] $refusal[1]
    Write-Record 'rolled-back yes'
    Write-TrustedRootsJavaObservation $payload
    return
  }
  $exitRecord = 'applied'
  $keystoreBytes = [Convert]::FromBase64String($payload.keystore)
  $manifestBytes = [Convert]::FromBase64String($payload.manifest)
  $txn = $null
  $step = 'transaction'
  try {
    Protect-TrustedRootsFolders $paths
    $txn = Join-Path @($paths.Folders)[-1] ('txn.' + [Guid]::NewGuid().ToString('N'))
    [void] [IO.Directory]::CreateDirectory($txn)
    if ([IO.File]::Exists($found.Path)) { [IO.File]::Copy($found.Path, (Join-Path $txn 'keystore.original')) }
    if ([IO.File]::Exists($paths.Manifest)) { [IO.File]::Copy($paths.Manifest, (Join-Path $txn 'manifest.original')) }
    [IO.File]::WriteAllBytes((Join-Path $txn 'manifest.planned'), $manifestBytes)
    # Written last: a transaction folder without it changed nothing yet.
    $state = [ordered]@{ keystore = $found.Path; original = [string] $payload.keystoreBasis; new = [string] $payload.keystoreDigest }
    [IO.File]::WriteAllText((Join-Path $txn 'state.json'), (ConvertTo-Json -InputObject $state -Compress))
    $step = 'verify'
    $keystoreFolder = [IO.Path]::GetDirectoryName($found.Path)
    if (-not [IO.Directory]::Exists($keystoreFolder)) { [void] [IO.Directory]::CreateDirectory($keystoreFolder) }
    $candidate = Join-Path $txn 'keystore.new'
    [IO.File]::WriteAllBytes($candidate, $keystoreBytes)
    Test-TrustedRootsKeystore $found.Keytool $candidate $payload.type $payload.password $txn
    $step = 'keystore'
    Set-TrustedRootsKeystoreBytes $found.Path $keystoreBytes
    [IO.File]::WriteAllText((Join-Path $txn 'moved'), '')
    $step = 'manifest'
    Set-TrustedRootsManifest (Write-TrustedRootsStagingFile $paths $manifestBytes) $paths.Manifest ($paths.Manifest + '.previous')
    [IO.File]::WriteAllText((Join-Path $txn 'committed'), '')
    [IO.Directory]::Delete($txn, $true)
  } catch {
    Write-Failure $step $_.Exception.Message
    $exitRecord = 'rolled-back yes'
    try {
      if (($null -ne $txn) -and [IO.File]::Exists((Join-Path $txn 'state.json'))) { Undo-TrustedRootsJavaTransaction $txn $paths }
      if (($null -ne $txn) -and [IO.Directory]::Exists($txn)) { [IO.Directory]::Delete($txn, $true) }
    } catch { $exitRecord = 'rolled-back failed' }
  }
  Write-Record $exitRecord
  Write-TrustedRootsJavaObservation $payload
} finally { $mutex.ReleaseMutex(); $mutex.Dispose() }`;

/** What a request names: the keystore (data) and its manifest's folder. */
function request(location: JavaKeystoreLocation) {
  return { kind: location.kind, target: declaredPathOf(location) ?? "", manifestDir: windowsJavaManifestDir(location) };
}

function applyScript(target: JavaKeystoreTarget, plan: StorePlan): RemoteScript {
  const rewritten = rewrittenKeystore(target, plan);
  if (!/^(absent|[0-9a-f]{64});acl:[0-9a-f]{16}$/.test(plan.basis)) throw new Error("internal: not a digest");
  const payload = {
    ...request(target.location),
    basis: plan.basis,
    keystoreBasis: rewritten.keystore.digest,
    keystoreDigest: rewritten.digest,
    type: rewritten.keystore.type,
    password: target.password,
    keystore: rewritten.bytes.toString("base64"),
    // The exact bytes the host writes and later hashes.
    manifest: Buffer.from(renderManifest(plan.manifest), "utf8").toString("base64"),
  };
  return windowsScript(APPLY_BODY, JSON.stringify(payload));
}

const observationRecord = z.object({
  BootId: windowsDate,
  PendingRebootReasons: jsonList(z.string()),
  ...manifestRecordFields,
  KeystorePath: z.string().nullable(),
  Keystore: z.string().nullable(),
  KeystoreDigest: z.string(),
  Keytool: z.string().nullable(),
  LocateFailure: z.string().nullable(),
});

function parseObservation(target: JavaKeystoreTarget, stdout: string): ObservedStore {
  const data = readObservationJson(stdout, observationRecord);
  if (data.LocateFailure) throw new KeystoreError(`${target.label}: ${data.LocateFailure}`);
  if (!data.KeystorePath) throw new ProtocolError("the observe script reported neither the keystore nor why it could not find it");
  const warnings: string[] = [];
  const { manifest, ...manifestFacts } = readWindowsManifest(data, manifestFiles(target.location), warnings);
  const bytes = data.Keystore === null ? undefined : Buffer.from(data.Keystore, "base64");
  const keystore = keystoreFromBytes(target, data.KeystorePath, data.KeystorePath, bytes);
  if (keystore.digest !== data.KeystoreDigest) throw new ProtocolError(`the host's SHA-256 of ${data.KeystorePath} (${data.KeystoreDigest}) is not this machine's (${keystore.digest}) for the same bytes`);
  if (!data.Keytool) warnings.push(`${target.label}: keytool.exe was not found on the host (install a JRE and set JAVA_HOME): an apply checks the rewritten keystore with it and refuses without it`);
  return {
    platform: "windows",
    store: "Java",
    bootId: data.BootId,
    pendingReboot: data.PendingRebootReasons.length > 0,
    roots: keystoreRoots(target, keystore, manifest, warnings),
    distrustBy: "absence",
    distrusted: [],
    manifest,
    ...manifestFacts,
    warnings,
    keystore,
  };
}

/** A Java keystore on a Windows server: the Platform the store engine drives, for one keystore. */
export function createWindowsJavaKeystorePlatform(target: JavaKeystoreTarget): Platform {
  return {
    ...windows,
    stores: ["Java"],
    observeScript: () => windowsScript(OBSERVE_BODY, JSON.stringify(request(target.location))),
    parseObservation: (stdout) => parseObservation(target, stdout),
    applyScript: (plan) => applyScript(target, plan),
    parseApply: (stdout) => parseWindowsApply(stdout, (output) => parseObservation(target, output)),
  };
}
