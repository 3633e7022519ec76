import { z } from "zod";
import { manifestDigest, parseManifest, renderManifest } from "./manifest";
import { mergeObservedRoots, readHeldCertificates, type HeldCertificates } from "./observation";
import { decodeField, parseRecords, ProtocolError } from "./protocol";
import { psQuote } from "./shell";
import type { ApplyOutcome, ObservedStore, Platform, RemoteScript, RootOrigin, StoreName, StorePlan } from "./types";

export const WINDOWS_MANIFEST_PATH = "C:\\ProgramData\\trusted-roots\\manifest.json";

/** Run a script as `powershell -EncodedCommand`: UTF-16LE base64, so no quoting layer of cmd.exe or sshd applies. */
export function encodePowerShell(script: string): string {
  return Buffer.from(script, "utf16le").toString("base64");
}

export function powershellCommand(script: string): string {
  return `powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${encodePowerShell(script)}`;
}

// Physical stores behind a logical LocalMachine store, by registry location. Roots in .AuthRoot come from
// Windows Update, .GroupPolicy and .Enterprise from Active Directory: never this tool's to remove.
const OBSERVE_FUNCTION = `function Get-TrustedRootsObservation([string] $StoreName) {
  $physical = [ordered]@{
    '.Default' = 'HKLM:\\SOFTWARE\\Microsoft\\SystemCertificates\\' + $StoreName + '\\Certificates'
    '.GroupPolicy' = 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\' + $StoreName + '\\Certificates'
    '.Enterprise' = 'HKLM:\\SOFTWARE\\Microsoft\\EnterpriseCertificates\\' + $StoreName + '\\Certificates'
  }
  if ($StoreName -eq 'Root') { $physical['.AuthRoot'] = 'HKLM:\\SOFTWARE\\Microsoft\\SystemCertificates\\AuthRoot\\Certificates' }
  $where = @{}
  foreach ($name in $physical.Keys) {
    if (Test-Path -LiteralPath $physical[$name]) {
      foreach ($key in Get-ChildItem -LiteralPath $physical[$name]) {
        $thumbprint = $key.PSChildName.ToUpperInvariant()
        if (-not $where.ContainsKey($thumbprint)) { $where[$thumbprint] = @() }
        $where[$thumbprint] += $name
      }
    }
  }
  $store = New-Object System.Security.Cryptography.X509Certificates.X509Store($StoreName, 'LocalMachine')
  $store.Open('ReadOnly, OpenExistingOnly')
  try {
    return @(foreach ($certificate in $store.Certificates) {
      $stores = @()
      if ($where.ContainsKey($certificate.Thumbprint)) { $stores = @($where[$certificate.Thumbprint]) }
      [ordered]@{
        Thumbprint = $certificate.Thumbprint
        Subject = $certificate.Subject
        NotAfter = $certificate.NotAfter.ToUniversalTime().ToString('o')
        RawData = [Convert]::ToBase64String($certificate.RawData)
        PhysicalStores = $stores
      }
    })
  } finally { $store.Close() }
}
function Write-TrustedRootsObservation([string] $StoreName) {
  $manifestPath = Join-Path $env:ProgramData 'trusted-roots\\manifest.json'
  $manifest = $null
  if (Test-Path -LiteralPath $manifestPath) { $manifest = [IO.File]::ReadAllText($manifestPath) }
  $pending = (Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending') -or
    (Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired')
  $distrusted = @()
  if ($StoreName -eq 'Root') { $distrusted = @(Get-TrustedRootsObservation 'Disallowed') }
  $observation = [ordered]@{
    Store = $StoreName
    BootId = (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')
    PendingReboot = [bool] $pending
    Manifest = $manifest
    Certificates = @(Get-TrustedRootsObservation $StoreName)
    Distrusted = $distrusted
  }
  [Console]::Out.WriteLine('@@json-start')
  [Console]::Out.WriteLine(($observation | ConvertTo-Json -Depth 6 -Compress))
  [Console]::Out.WriteLine('@@json-end')
}`;

const PRELUDE = `$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding($false)`;

function observeScript(store: StoreName): RemoteScript {
  const script = `${PRELUDE}
${OBSERVE_FUNCTION}
[Console]::Out.WriteLine('@@begin observe')
Write-TrustedRootsObservation ${psQuote(store)}
`;
  return { command: powershellCommand(script), stdin: "", elevation: "none" };
}

// Certificates, thumbprints and the manifest arrive as JSON on stdin; the script text holds no user data
// except the store name, a fixed enum, quoted anyway.
const APPLY_BODY = `$payload = [Console]::In.ReadToEnd() | ConvertFrom-Json
$manifestDir = Join-Path $env:ProgramData 'trusted-roots'
$manifestPath = Join-Path $manifestDir 'manifest.json'
$mutex = New-Object System.Threading.Mutex($false, 'Global\\trusted-roots')
if (-not $mutex.WaitOne(120000)) {
  [Console]::Out.WriteLine('@@failed lock ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('another trusted-roots apply held the host lock for 120 s')))
  exit 3
}
$current = 'absent'
if (Test-Path -LiteralPath $manifestPath) { $current = (Get-FileHash -Algorithm SHA256 -LiteralPath $manifestPath).Hash.ToLowerInvariant() }
if ($current -ne [string] $payload.basis) {
  [Console]::Out.WriteLine('@@failed conflict ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('the store changed after it was observed (another run?); observe again and re-plan')))
  [Console]::Out.WriteLine('@@rolled-back yes')
  $mutex.ReleaseMutex()
  Write-TrustedRootsObservation $StoreName
  exit 3
}
$store = New-Object System.Security.Cryptography.X509Certificates.X509Store($StoreName, 'LocalMachine')
$disallowed = New-Object System.Security.Cryptography.X509Certificates.X509Store('Disallowed', 'LocalMachine')
$added = New-Object System.Collections.ArrayList
$removed = New-Object System.Collections.ArrayList
$distrustAdded = New-Object System.Collections.ArrayList
$manifestBefore = $null
if (Test-Path -LiteralPath $manifestPath) { $manifestBefore = [IO.File]::ReadAllText($manifestPath) }
$step = 'open'
$exitCode = 0
try {
  $store.Open('ReadWrite')
  $step = 'import'
  foreach ($item in @($payload.imports)) {
    if ($null -eq $item) { continue }
    $certificate = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2(,[Convert]::FromBase64String($item.der))
    if ($certificate.Thumbprint -ne $item.thumbprint) { throw ('certificate ' + $item.thumbprint + ' decoded to thumbprint ' + $certificate.Thumbprint) }
    $present = $store.Certificates.Find('FindByThumbprint', $certificate.Thumbprint, $false).Count -gt 0
    $store.Add($certificate)
    if (-not $present) { [void] $added.Add($certificate) }
  }
  $step = 'remove'
  foreach ($thumbprint in @($payload.removals)) {
    if ($null -eq $thumbprint) { continue }
    foreach ($certificate in @($store.Certificates.Find('FindByThumbprint', $thumbprint, $false))) {
      $store.Remove($certificate)
      [void] $removed.Add($certificate)
    }
  }
  $step = 'distrust'
  if (@($payload.distrusts).Count -gt 0) {
    $disallowed.Open('ReadWrite')
    foreach ($item in @($payload.distrusts)) {
      if ($null -eq $item) { continue }
      $certificate = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2(,[Convert]::FromBase64String($item.der))
      if ($disallowed.Certificates.Find('FindByThumbprint', $certificate.Thumbprint, $false).Count -eq 0) {
        $disallowed.Add($certificate)
        [void] $distrustAdded.Add($certificate)
      }
    }
  }
  $step = 'manifest'
  [void] (New-Item -ItemType Directory -Force -Path $manifestDir)
  $staging = $manifestPath + '.trusted-roots-new'
  [IO.File]::WriteAllText($staging, [string] $payload.manifest, (New-Object System.Text.UTF8Encoding($false)))
  Move-Item -LiteralPath $staging -Destination $manifestPath -Force
  [Console]::Out.WriteLine('@@applied')
} catch {
  $detail = $_.Exception.Message
  [Console]::Out.WriteLine('@@failed ' + $step + ' ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($detail)))
  $restored = 'yes'
  try {
    foreach ($certificate in $added) { $store.Remove($certificate) }
    foreach ($certificate in $removed) { $store.Add($certificate) }
    foreach ($certificate in $distrustAdded) { $disallowed.Remove($certificate) }
    if ($null -ne $manifestBefore) { [IO.File]::WriteAllText($manifestPath, $manifestBefore, (New-Object System.Text.UTF8Encoding($false))) }
    elseif (Test-Path -LiteralPath $manifestPath) { Remove-Item -LiteralPath $manifestPath -Force }
  } catch { $restored = 'failed' }
  [Console]::Out.WriteLine('@@rolled-back ' + $restored)
  $exitCode = 3
} finally {
  $store.Close()
  $disallowed.Close()
  $mutex.ReleaseMutex()
}
Write-TrustedRootsObservation $StoreName
exit $exitCode`;

function applyScript(plan: StorePlan): RemoteScript {
  const script = `${PRELUDE}
${OBSERVE_FUNCTION}
$StoreName = ${psQuote(plan.store)}
[Console]::Out.WriteLine('@@begin apply')
${APPLY_BODY}
`;
  const payload = {
    imports: plan.imports.map((root) => ({ thumbprint: root.sha1, der: root.der.toString("base64") })),
    removals: plan.removals.map((removal) => removal.sha1),
    distrusts: plan.distrusts.map((root) => ({ thumbprint: root.sha1, der: root.der.toString("base64") })),
    manifest: renderManifest(plan.manifest),
    basis: plan.basis,
  };
  return { command: powershellCommand(script), stdin: JSON.stringify(payload), elevation: "none" };
}

// ConvertTo-Json writes a one-element collection as an object and an empty one as null or nothing,
// Windows PowerShell 5.1 writes DateTime as "/Date(ms)/", PowerShell 7 as ISO text.
const many = <T extends z.ZodTypeAny>(item: T) =>
  z.preprocess((value) => (value === null || value === undefined ? [] : Array.isArray(value) ? value : [value]), z.array(item));

const windowsDate = z.preprocess((value) => normalizeWindowsDate(value), z.string());

const certificateRecord = z.object({
  Thumbprint: z.string(),
  Subject: z.string().optional(),
  NotAfter: windowsDate.optional(),
  RawData: z.string(),
  PhysicalStores: many(z.string()),
});

const observationRecord = z.object({
  Store: z.string().optional(),
  BootId: windowsDate,
  PendingReboot: z.boolean().optional().default(false),
  Manifest: z.string().nullable().optional(),
  Certificates: many(certificateRecord),
  Distrusted: many(certificateRecord),
});

export function normalizeWindowsDate(value: unknown): unknown {
  if (typeof value === "string") {
    const legacy = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(value);
    if (legacy) return new Date(Number(legacy[1])).toISOString();
    return value;
  }
  if (value && typeof value === "object" && "DateTime" in value) return normalizeWindowsDate((value as { value?: unknown }).value);
  return value;
}

/** The JSON text between the observe markers, wherever PowerShell put progress or CLIXML noise around it. */
function observationJson(stdout: string): string {
  const start = stdout.indexOf("@@json-start");
  const end = stdout.indexOf("@@json-end", start);
  if (start < 0 || end < 0) {
    throw new ProtocolError("the PowerShell observe script's output ended early (no @@json-start/@@json-end): the session was cut or PowerShell failed");
  }
  return stdout.slice(start + "@@json-start".length, end).replace(/^\uFEFF/, "").trim();
}

const PHYSICAL_ORIGIN: Record<string, RootOrigin> = {
  ".Default": "local",
  ".AuthRoot": "system",
  ".GroupPolicy": "policy",
  ".Enterprise": "policy",
};

function heldFrom(records: z.infer<typeof certificateRecord>[], warnings: string[]): HeldCertificates[] {
  const held: HeldCertificates[] = [];
  for (const record of records) {
    const certificates = readHeldCertificates(Buffer.from(record.RawData, "base64"), `certificate ${record.Thumbprint}`, warnings);
    if (certificates.length === 0) continue;
    held.push({ location: "logical", certificates, source: "effective" });
    for (const physical of record.PhysicalStores) {
      held.push({ location: physical, certificates, source: PHYSICAL_ORIGIN[physical] ?? "system" });
    }
  }
  return held;
}

export function parseWindowsObservation(stdout: string, store: StoreName): ObservedStore {
  let json: unknown;
  try {
    json = JSON.parse(observationJson(stdout));
  } catch (error) {
    throw new ProtocolError(`the PowerShell observe output is not JSON: ${(error as Error).message}`);
  }
  const parsed = observationRecord.safeParse(json);
  if (!parsed.success) {
    throw new ProtocolError(`the PowerShell observe output has an unexpected shape: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
  }
  const warnings: string[] = [];
  const { manifest, warning } = parseManifest(parsed.data.Manifest ?? "");
  if (warning) warnings.push(warning);
  return {
    platform: "windows",
    store,
    bootId: parsed.data.BootId,
    pendingReboot: parsed.data.PendingReboot,
    roots: mergeObservedRoots(heldFrom(parsed.data.Certificates, warnings), manifest),
    distrusted: mergeObservedRoots(heldFrom(parsed.data.Distrusted, warnings), manifest).map((root) => ({ ...root, trusted: false })),
    manifest,
    manifestDigest: manifestDigest(parsed.data.Manifest == null ? undefined : Buffer.from(parsed.data.Manifest, "utf8")),
    warnings,
  };
}

function parseApply(stdout: string, store: StoreName): ApplyOutcome {
  const records = parseRecords(stdout);
  if (!records.some((record) => record.kind === "begin")) {
    throw new ProtocolError("the PowerShell apply script printed nothing it should (no @@begin record): it did not run");
  }
  const failed = records.find((record) => record.kind === "failed");
  return {
    failedStep: failed?.fields[0],
    failureDetail: failed ? decodeField(failed.fields[1]).trim() : undefined,
    rolledBack: records.find((record) => record.kind === "rolled-back")?.fields[0] === "yes",
    observed: parseWindowsObservation(stdout, store),
  };
}

const BOOT_ID_SCRIPT = `${PRELUDE}
[Console]::Out.WriteLine((Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o'))
`;

/** Windows Server (IIS): X509Store on LocalMachine Root / CA / Disallowed through PowerShell. */
export const windows: Platform = {
  name: "windows",
  stores: ["Root", "CA", "Disallowed"],
  observeScript,
  parseObservation: parseWindowsObservation,
  applyScript,
  parseApply,
  bootIdScript: () => ({ command: powershellCommand(BOOT_ID_SCRIPT), stdin: "", elevation: "none" }),
  parseBootId: (stdout) => String(normalizeWindowsDate(stdout.trim())),
  rebootScript: (delaySeconds) => ({
    command: `shutdown /r /t ${Math.max(0, Math.floor(delaySeconds))} /c "trusted-roots: trust store changed"`,
    stdin: "",
    elevation: "none",
  }),
};
