import { z } from "zod";
import { parseCertificates } from "../certificates";
import { EMPTY_MANIFEST, manifestBackupPath, manifestDigest, parseManifest, renderManifest } from "./manifest";
import { listedFor, mergeObservedRoots, readHeldCertificates, type HeldCertificates } from "./observation";
import { decodeField, parseRecords, ProtocolError } from "./protocol";
import { listsCertificate, parseTrustList, WINDOWS_REQUIRED_ROOTS, type TrustList } from "./trustList";
import type { ApplyOutcome, BootReading, ObservedRoot, ObservedStore, Platform, RemoteScript, RootOrigin, StoreHazard, StoreName, StorePlan } from "./types";
import { ADMINISTRATORS_SID, MANIFEST_FILE_FUNCTIONS, manifestSecurityProblems, pathSecuritySchema, SYSTEM_SID, type PathSecurity } from "./windowsManifestFiles";
import { jsonList, reportedFailure, windowsRefusal, windowsScript } from "./windowsTransport";

/** Where the manifest lives under %ProgramData%; the self-test uses a folder of its own. */
export const WINDOWS_MANIFEST_DIR = "trusted-roots";
export const WINDOWS_MANIFEST_PATH = `C:\\ProgramData\\${WINDOWS_MANIFEST_DIR}\\manifest.json`;
const WINDOWS_MANIFEST_FILES = { path: WINDOWS_MANIFEST_PATH, backup: manifestBackupPath(WINDOWS_MANIFEST_PATH) };

/** Which stores on the host a logical store means, and where its manifest is: the real ones, or a scratch set. */
export interface WindowsStoreLayout {
  storeOnHost(store: StoreName): string;
  manifestDir: string;
}

export const REAL_STORES: WindowsStoreLayout = { storeOnHost: (store) => store, manifestDir: WINDOWS_MANIFEST_DIR };

// Get-CimInstance is a compiled cmdlet (CimCmdlets), safe under any execution policy.
const BOOT_TIME_FUNCTION = `function Get-TrustedRootsBootTime {
  return (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')
}`;

/** Registry reads, pending reboots and the boot time: the host facts every Windows observation carries. */
export const HOST_FACT_FUNCTIONS = `function Get-RegistryValue([string] $Path, [string] $Name) {
  $item = Get-ItemProperty -LiteralPath $Path -Name $Name -ErrorAction SilentlyContinue
  if ($null -eq $item) { return $null }
  return $item.$Name
}
function Get-RegistryBlob([string] $Path, [string] $Name) {
  $value = Get-RegistryValue $Path $Name
  if ($null -eq $value) { return '' }
  return [Convert]::ToBase64String([byte[]] $value)
}
# Everything that asks for a reboot before it takes effect; PendingFileRenameOperations is often set by
# installers and anti-virus updates too, so a reason is named, never guessed.
function Get-TrustedRootsPendingReboot {
  $reasons = @()
  if (Test-Path -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending') { $reasons += 'Component Based Servicing' }
  if (Test-Path -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired') { $reasons += 'Windows Update' }
  foreach ($name in @('PendingFileRenameOperations', 'PendingFileRenameOperations2')) {
    $value = Get-RegistryValue 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager' $name
    if (($null -ne $value) -and (@(@($value) -ne '').Count -gt 0)) { $reasons += $name }
  }
  if (Test-Path -LiteralPath 'HKLM:\\SOFTWARE\\Microsoft\\ServerManager\\CurrentRebootAttempts') { $reasons += 'Server Manager' }
  return $reasons
}
${BOOT_TIME_FUNCTION}
# A file's bytes (base64) and SHA-256, or null and 'absent'.
function Get-TrustedRootsFileFacts([string] $Path) {
  if (-not [IO.File]::Exists($Path)) { return @{ Bytes = $null; Digest = 'absent' } }
  $bytes = [IO.File]::ReadAllBytes($Path)
  return @{ Bytes = [Convert]::ToBase64String($bytes); Digest = Get-TrustedRootsDigest $bytes }
}
# What every observation starts with: the boot, pending reboots, and the manifest with who may write it.
function New-TrustedRootsObservation($Request) {
  $paths = Get-TrustedRootsManifestPaths $Request
  $security = Get-TrustedRootsSecurity $paths
  $manifest = Get-TrustedRootsFileFacts $paths.Manifest
  return [ordered]@{
    BootId = Get-TrustedRootsBootTime
    PendingRebootReasons = @(Get-TrustedRootsPendingReboot)
    Manifest = $manifest.Bytes
    ManifestDigest = $manifest.Digest
    ManifestSecurity = $security
    SecurityDigest = Get-TrustedRootsSecurityDigest $security
  }
}`;

// Physical stores behind a logical LocalMachine store, by registry location. Roots in .AuthRoot come from
// Windows Update, .GroupPolicy and .Enterprise from Active Directory: never this tool's to remove. The
// trust lists and SChannel settings are read for Root and Disallowed, where they decide what is Microsoft's.
const OBSERVE_FUNCTIONS = `${MANIFEST_FILE_FUNCTIONS}
function Get-TrustedRootsCertificates([string] $StoreName) {
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
  $store.Open('ReadOnly')
  try {
    return @(foreach ($certificate in $store.Certificates) {
      $stores = @()
      if ($where.ContainsKey($certificate.Thumbprint)) { $stores = @($where[$certificate.Thumbprint]) }
      [ordered]@{ Thumbprint = $certificate.Thumbprint; RawData = [Convert]::ToBase64String($certificate.RawData); PhysicalStores = $stores }
    })
  } finally { $store.Close() }
}
${HOST_FACT_FUNCTIONS}
function Write-TrustedRootsObservation($Request) {
  $autoUpdate = 'HKLM:\\SOFTWARE\\Microsoft\\SystemCertificates\\AuthRoot\\AutoUpdate'
  $schannel = 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\Schannel'
  $observation = New-TrustedRootsObservation $Request
  $observation.Certificates = @(Get-TrustedRootsCertificates $Request.store)
  $observation.Distrusted = @(Get-TrustedRootsCertificates $Request.disallowedStore)
  $observation.TrustList = Get-RegistryBlob $autoUpdate 'EncodedCtl'
  $observation.DisallowedTrustList = Get-RegistryBlob $autoUpdate 'DisallowedCertEncodedCtl'
  $observation.ClientAuthTrustMode = Get-RegistryValue $schannel 'ClientAuthTrustMode'
  $observation.SendTrustedIssuerList = Get-RegistryValue $schannel 'SendTrustedIssuerList'
  Write-Record ('observation ' + (ConvertTo-RecordField ($observation | ConvertTo-Json -Depth 6 -Compress)))
}`;

const OBSERVE_BODY = `${OBSERVE_FUNCTIONS}
$request = $Data | ConvertFrom-Json
Write-Record 'begin observe'
Write-TrustedRootsObservation $request
Write-Record 'done'`;

/** The stores a request names on the host, and where its manifest is; data, never script text. */
function storeRequest(layout: WindowsStoreLayout, store: StoreName) {
  return { store: layout.storeOnHost(store), disallowedStore: layout.storeOnHost("Disallowed"), manifestDir: layout.manifestDir };
}

function observeScript(layout: WindowsStoreLayout, store: StoreName): RemoteScript {
  return windowsScript(OBSERVE_BODY, JSON.stringify(storeRequest(layout, store)));
}

// One named mutex per host serializes applies. A mutex its holder never released (a session killed mid-apply
// takes its PowerShell with it) is abandoned: WaitOne then acquires it and reports that, which is not an error.
// Any user may create a named mutex, even under Global\: one made with this name by anyone but SYSTEM or
// Administrators could block or race every apply, so it is refused. The tool's own grants only those two.
export const LOCK_FUNCTIONS = String.raw`function Open-TrustedRootsLock {
  $security = New-Object System.Security.AccessControl.MutexSecurity
  foreach ($sid in @('${SYSTEM_SID}', '${ADMINISTRATORS_SID}')) {
    $security.AddAccessRule((New-Object System.Security.AccessControl.MutexAccessRule((New-TrustedRootsSid $sid), [System.Security.AccessControl.MutexRights]::FullControl, [System.Security.AccessControl.AccessControlType]::Allow)))
  }
  $security.SetOwner((New-TrustedRootsSid '${ADMINISTRATORS_SID}'))
  $created = $false
  $mutex = New-Object System.Threading.Mutex($false, 'Global\trusted-roots', [ref] $created, $security)
  if (-not $created) {
    $owner = $mutex.GetAccessControl().GetOwner([System.Security.Principal.SecurityIdentifier]).Value
    if (@('${SYSTEM_SID}', '${ADMINISTRATORS_SID}') -notcontains $owner) {
      $mutex.Dispose()
      throw ('the host lock Global\trusted-roots was created by ' + $owner + ', not SYSTEM or Administrators: a non-administrator could block or race applies. End the process holding it (handle.exe -a trusted-roots names it) and deploy again')
    }
  }
  return $mutex
}
# The host lock, held: null once the failure is reported (a foreign lock, or another apply for 120 s).
function Enter-TrustedRootsLock {
  try { $mutex = Open-TrustedRootsLock } catch {
    Write-Failure 'lock' $_.Exception.Message
    return $null
  }
  $locked = $false
  try { $locked = $mutex.WaitOne(120000) } catch {
    if (($_.Exception -is [System.Threading.AbandonedMutexException]) -or ($_.Exception.InnerException -is [System.Threading.AbandonedMutexException])) { $locked = $true } else { throw }
  }
  if (-not $locked) {
    $mutex.Dispose()
    Write-Failure 'lock' 'another trusted-roots apply held the host lock for 120 s; nothing was changed'
    return $null
  }
  return $mutex
}`;

const APPLY_BODY = `${OBSERVE_FUNCTIONS}
${LOCK_FUNCTIONS}
$payload = $Data | ConvertFrom-Json
Write-Record 'begin apply'
$paths = Get-TrustedRootsManifestPaths $payload
$mutex = Enter-TrustedRootsLock
if ($null -eq $mutex) {
  Write-Record 'rolled-back yes'
  Write-TrustedRootsObservation $payload
  return
}
$exitRecord = 'applied'
try {
  # The manifest's bytes and who may write it and its folders, as they were when the plan was made.
  if ((Get-TrustedRootsBasis $paths) -ne [string] $payload.basis) {
    Write-Failure 'conflict' 'the store or its manifest changed after it was observed (another run, or its permissions); observe again and re-plan'
    Write-Record 'rolled-back yes'
    Write-TrustedRootsObservation $payload
    return
  }
  $store = New-Object System.Security.Cryptography.X509Certificates.X509Store($payload.store, 'LocalMachine')
  $disallowed = New-Object System.Security.Cryptography.X509Certificates.X509Store($payload.disallowedStore, 'LocalMachine')
  $added = New-Object System.Collections.ArrayList
  $removed = New-Object System.Collections.ArrayList
  $distrustAdded = New-Object System.Collections.ArrayList
  $distrustRemoved = New-Object System.Collections.ArrayList
  $manifestBefore = $null
  if ([IO.File]::Exists($paths.Manifest)) { $manifestBefore = [IO.File]::ReadAllBytes($paths.Manifest) }
  $staging = $null
  $step = 'open'
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
    if ((@($payload.distrusts).Count + @($payload.undistrusts).Count) -gt 0) { $disallowed.Open('ReadWrite') }
    if (@($payload.distrusts).Count -gt 0) {
      foreach ($item in @($payload.distrusts)) {
        if ($null -eq $item) { continue }
        $certificate = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2(,[Convert]::FromBase64String($item.der))
        if ($disallowed.Certificates.Find('FindByThumbprint', $certificate.Thumbprint, $false).Count -eq 0) {
          $disallowed.Add($certificate)
          [void] $distrustAdded.Add($certificate)
        }
      }
    }
    $step = 'undistrust'
    if (@($payload.undistrusts).Count -gt 0) {
      foreach ($thumbprint in @($payload.undistrusts)) {
        if ($null -eq $thumbprint) { continue }
        foreach ($certificate in @($disallowed.Certificates.Find('FindByThumbprint', $thumbprint, $false))) {
          $disallowed.Remove($certificate)
          [void] $distrustRemoved.Add($certificate)
        }
      }
    }
    $step = 'manifest'
    Protect-TrustedRootsFolders $paths
    $staging = Write-TrustedRootsStagingFile $paths ([Convert]::FromBase64String($payload.manifest))
    # The manifest it replaces (one this version could read) stays beside it as manifest.json.previous.
    Set-TrustedRootsManifest $staging $paths.Manifest ($paths.Manifest + '.previous')
  } catch {
    Write-Failure $step $_.Exception.Message
    $exitRecord = 'rolled-back yes'
    try {
      foreach ($certificate in $added) { $store.Remove($certificate) }
      foreach ($certificate in $removed) { $store.Add($certificate) }
      foreach ($certificate in $distrustAdded) { $disallowed.Remove($certificate) }
      foreach ($certificate in $distrustRemoved) { $disallowed.Add($certificate) }
      if (($null -ne $staging) -and [IO.File]::Exists($staging)) { [IO.File]::Delete($staging) }
      if ($null -ne $manifestBefore) {
        Set-TrustedRootsManifest (Write-TrustedRootsStagingFile $paths $manifestBefore) $paths.Manifest $null
      } elseif ([IO.File]::Exists($paths.Manifest)) { [IO.File]::Delete($paths.Manifest) }
    } catch { $exitRecord = 'rolled-back failed' }
  } finally {
    $store.Close()
    $disallowed.Close()
  }
  Write-Record $exitRecord
  Write-TrustedRootsObservation $payload
} finally { $mutex.ReleaseMutex(); $mutex.Dispose() }`;

function applyScript(layout: WindowsStoreLayout, plan: StorePlan): RemoteScript {
  const payload = {
    ...storeRequest(layout, plan.store),
    imports: plan.imports.map((root) => ({ thumbprint: root.sha1, der: root.der.toString("base64") })),
    removals: plan.removals.map((removal) => removal.sha1),
    distrusts: plan.distrusts.map((root) => ({ thumbprint: root.sha1, der: root.der.toString("base64") })),
    // Only entries of the manifest's distrusted list: what this tool itself added to Disallowed.
    undistrusts: plan.undistrusts.map((root) => root.sha1),
    // The exact bytes the host writes and later hashes: both sides digest the same bytes.
    manifest: Buffer.from(renderManifest(plan.manifest), "utf8").toString("base64"),
    basis: plan.basis,
  };
  return windowsScript(APPLY_BODY, JSON.stringify(payload));
}

// Windows PowerShell 5.1 writes DateTime as "/Date(ms)/", PowerShell 7 as ISO text.
export const windowsDate = z.preprocess((value) => normalizeWindowsDate(value), z.string());
const optionalNumber = z.preprocess((value) => (value === null ? undefined : value), z.number().int().optional());
const optionalBlob = z.preprocess((value) => (value === null ? "" : value), z.string().default(""));

/** The manifest facts every Windows observation carries: its bytes, their digest, and who may write it. */
export const manifestRecordFields = {
  Manifest: z.string().nullable().optional(),
  ManifestDigest: z.string(),
  ManifestSecurity: jsonList(pathSecuritySchema),
  SecurityDigest: z.string(),
};

const certificateRecord = z.object({
  Thumbprint: z.string(),
  RawData: z.string(),
  PhysicalStores: jsonList(z.string()),
});

const observationRecord = z.object({
  BootId: windowsDate,
  PendingRebootReasons: jsonList(z.string()),
  ...manifestRecordFields,
  Certificates: jsonList(certificateRecord),
  Distrusted: jsonList(certificateRecord),
  TrustList: optionalBlob,
  DisallowedTrustList: optionalBlob,
  ClientAuthTrustMode: optionalNumber,
  SendTrustedIssuerList: optionalNumber,
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

/** Where a root counts as the operating system's although it sits in `.Default`. */
export const ROOT_PROGRAM_LOCATION = "Microsoft root program (AuthRoot trust list)";
export const REQUIRED_ROOT_LOCATION = "required by Windows (KB293781)";
export const AUTOMATIC_DISTRUST_LOCATION = "Microsoft automatic distrust (Disallowed trust list)";

const PHYSICAL_ORIGIN: Record<string, RootOrigin> = {
  // Where this tool imports too: a root there is managed while the manifest lists it for the store.
  ".Default": "managed",
  ".AuthRoot": "system",
  ".GroupPolicy": "policy",
  ".Enterprise": "policy",
};

/** A trust list from its registry blob; one that does not parse is a warning, and protects nothing. */
function readTrustList(base64: string, name: string, warnings: string[]): TrustList | undefined {
  if (base64 === "") return undefined;
  try {
    return parseTrustList(Buffer.from(base64, "base64"));
  } catch (error) {
    warnings.push(`the host's ${name} could not be read: ${(error as Error).message}`);
    return undefined;
  }
}

function heldFrom(records: z.infer<typeof certificateRecord>[], microsoft: (der: Buffer, sha1: string) => string | undefined, warnings: string[]): HeldCertificates[] {
  const held: HeldCertificates[] = [];
  for (const record of records) {
    const der = Buffer.from(record.RawData, "base64");
    const certificates = readHeldCertificates(der, `certificate ${record.Thumbprint}`, warnings);
    if (certificates.length === 0) continue;
    held.push({ location: "logical", certificates, source: "effective" });
    for (const physical of record.PhysicalStores) held.push({ location: physical, certificates, source: PHYSICAL_ORIGIN[physical] ?? "system" });
    const listedAs = microsoft(der, certificates[0].sha1);
    if (listedAs) held.push({ location: listedAs, certificates, source: "system" });
  }
  return held;
}

/** IIS client-authentication hazards this observation shows (Root store observations only). */
function clientAuthHazards(store: StoreName, certificates: z.infer<typeof certificateRecord>[], data: z.infer<typeof observationRecord>): StoreHazard[] {
  if (store !== "Root") return [];
  const hazards: StoreHazard[] = [];
  for (const record of certificates) {
    let certificate;
    try {
      certificate = parseCertificates(Buffer.from(record.RawData, "base64"))[0];
    } catch {
      continue;
    }
    if (certificate && !certificate.selfSigned) {
      hazards.push({
        code: "non-self-signed-in-root",
        detail:
          `${certificate.subject} (thumbprint ${certificate.sha1}, issued by ${certificate.issuer}) is in LocalMachine\\Root but is not self-signed: ` +
          "IIS 8+ then rejects client certificates with 403.16 (KB2802568); move it to the CA store",
      });
    }
  }
  const trustMode = data.ClientAuthTrustMode ?? 0;
  if (trustMode === 1 || trustMode === 2) {
    hazards.push({
      code: "client-auth-trust-mode",
      detail:
        `SChannel ClientAuthTrustMode is ${trustMode} (${trustMode === 1 ? "Exclusive Root Trust" : "Exclusive CA Trust"}): client chains must end at (or pass through) ` +
        "a certificate in the binding's trusted-issuer store (usually ClientAuthIssuer), not Root; declare the roots for store ClientAuthIssuer too",
    });
  }
  if (data.SendTrustedIssuerList === 1) {
    hazards.push({
      code: "send-trusted-issuer-list",
      detail:
        "SChannel SendTrustedIssuerList is 1: browsers offer only client certificates from issuers on the list, which is capped at 16 KB; " +
        "with many roots the list overflows and clients offer no certificate at all (KB2880390). Windows' default since 2012 is 0",
    });
  }
  return hazards;
}

/** The observation record a Windows script printed, checked against its schema. */
export function readObservationJson<T extends z.ZodTypeAny>(stdout: string, schema: T): z.infer<T> {
  const refusal = windowsRefusal({ stdout, stderr: "", exitCode: 0 });
  const record = parseRecords(stdout).find((entry) => entry.kind === "observation");
  if (!record) {
    const failure = reportedFailure(parseRecords(stdout));
    throw new ProtocolError(
      refusal ?? (failure ? `the observe script failed at "${failure.step}": ${failure.detail}` : "the PowerShell script's output ended before its @@observation record: the session was cut"),
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(decodeField(record.fields[0]).replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new ProtocolError(`the PowerShell observation is not JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ProtocolError(`the PowerShell observation has an unexpected shape: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
  }
  return parsed.data;
}

const readObservationRecord = (stdout: string) => readObservationJson(stdout, observationRecord);

/**
 * The manifest a Windows host reported, trusted only if no one but administrators can write it; its digest is
 * what the apply compares under its lock (the bytes, and who owns and may write them and their folders).
 */
export function readWindowsManifest(
  data: { Manifest?: string | null; ManifestDigest: string; ManifestSecurity: PathSecurity[]; SecurityDigest: string },
  files: { path: string; backup: string },
  warnings: string[],
): Pick<ObservedStore, "manifest" | "manifestProblem" | "manifestDigest"> {
  const manifestBytes = data.Manifest == null ? undefined : Buffer.from(data.Manifest, "base64");
  const digest = manifestDigest(manifestBytes);
  if (data.ManifestDigest !== digest) {
    throw new ProtocolError(`the host's SHA-256 of its manifest (${data.ManifestDigest}) is not this machine's (${digest}) for the same bytes`);
  }
  const security = manifestSecurityProblems(data.ManifestSecurity);
  warnings.push(...security.tightened);
  // The digest covers the bytes as they are on disk (a BOM or CRLF from an editor included), like the host's.
  const parsedManifest = parseManifest(manifestBytes === undefined ? "" : manifestBytes.toString("utf8").replace(/^\uFEFF/, ""), files);
  // A manifest someone other than an administrator can write is no evidence of what this tool installed.
  const manifest = security.refusals.length > 0 ? EMPTY_MANIFEST : parsedManifest.manifest;
  const problem = [...security.refusals, ...(parsedManifest.problem ? [parsedManifest.problem] : [])].join("; ") || undefined;
  return { manifest, ...(problem ? { manifestProblem: problem } : {}), manifestDigest: `${digest};acl:${data.SecurityDigest}` };
}

/** What the host reported about the manifest's folders and file (the self-test checks them one by one). */
export function parseManifestSecurity(stdout: string): PathSecurity[] {
  return readObservationRecord(stdout).ManifestSecurity;
}

export function parseWindowsObservation(stdout: string, store: StoreName): ObservedStore {
  const data = readObservationRecord(stdout);
  const warnings: string[] = [];
  const { manifest, ...manifestFacts } = readWindowsManifest(data, WINDOWS_MANIFEST_FILES, warnings);
  const rootProgram = readTrustList(data.TrustList, "AuthRoot trust list (EncodedCtl)", warnings);
  const automaticDistrust = readTrustList(data.DisallowedTrustList, "Disallowed trust list (DisallowedCertEncodedCtl)", warnings);
  const microsoftRoot = (der: Buffer, sha1: string) =>
    WINDOWS_REQUIRED_ROOTS.has(sha1) ? REQUIRED_ROOT_LOCATION : rootProgram && listsCertificate(rootProgram, der) ? ROOT_PROGRAM_LOCATION : undefined;
  const microsoftDistrust = (der: Buffer) => (automaticDistrust && listsCertificate(automaticDistrust, der) ? AUTOMATIC_DISTRUST_LOCATION : undefined);
  const storeIsDistrust = store === "Disallowed";
  return {
    platform: "windows",
    store,
    bootId: data.BootId,
    pendingReboot: data.PendingRebootReasons.length > 0,
    roots: markVolatile(mergeObservedRoots(heldFrom(data.Certificates, storeIsDistrust ? microsoftDistrust : microsoftRoot, warnings), listedFor(manifest, store))),
    distrusted: mergeObservedRoots(heldFrom(data.Distrusted, microsoftDistrust, warnings), () => false).map((root) => ({ ...root, trusted: false })),
    distrustBy: "block",
    manifest,
    ...manifestFacts,
    warnings,
    ...purgeSafety(store, store === "Disallowed" ? automaticDistrust : rootProgram),
    hazards: clientAuthHazards(store, data.Certificates, data),
  };
}

/** When purgeUnmanaged cannot tell what Windows ships in this store from what an administrator added. */
function purgeSafety(store: StoreName, trustList: TrustList | undefined): Pick<ObservedStore, "purgeUnsafe"> {
  if (store === "CA" || store === "ClientAuthIssuer") {
    return {
      purgeUnsafe:
        `Windows ships certificates in LocalMachine\\${store}\\.Default (intermediates such as Microsoft Windows Hardware Compatibility PCA and ` +
        "Root Agency) and no list on the host names them, so they cannot be told from local ones. Use mode exact (it removes only what this tool installed)",
    };
  }
  if (trustList) return {};
  const list = store === "Disallowed" ? "automatic Disallowed list (DisallowedCertEncodedCtl)" : "root-program trust list (EncodedCtl)";
  return {
    purgeUnsafe:
      `the host holds no Microsoft ${list} under HKLM\\SOFTWARE\\Microsoft\\SystemCertificates\\AuthRoot\\AutoUpdate, so Microsoft's own certificates ` +
      "cannot be told from local ones. Let Windows fetch it (certutil -generateSSTFromWU, or automatic root update), or use mode exact",
  };
}

/**
 * A root held only in `.AuthRoot` was put there by automatic root update and can be dropped by it (or expire
 * from the cache); a declared one is imported into `.Default` too, so it stays whatever Windows Update does.
 */
function markVolatile(roots: ObservedRoot[]): ObservedRoot[] {
  const automatic = new Set([".AuthRoot", ROOT_PROGRAM_LOCATION]);
  return roots.map((root) => (root.trusted && root.locations.length > 0 && root.locations.every((place) => automatic.has(place)) ? { ...root, osMayDrop: true } : root));
}

/** What an apply script printed: its failure and rollback records, and the store it observed at its end. */
export function parseWindowsApply(stdout: string, parseObserved: (stdout: string) => ObservedStore): ApplyOutcome {
  const refusal = windowsRefusal({ stdout, stderr: "", exitCode: 0 });
  if (refusal) throw new ProtocolError(refusal, { nothingChanged: true });
  const records = parseRecords(stdout);
  const failed = reportedFailure(records);
  const settled = records.find((record) => record.kind === "rolled-back" || record.kind === "applied");
  if (failed && !settled) {
    // A failure outside the steps (the bootstrap running the script, the lock's own error) before any change.
    throw new ProtocolError(`the apply script stopped at "${failed.step}" before changing anything: ${failed.detail}`, { nothingChanged: true });
  }
  return {
    failedStep: failed?.step,
    failureDetail: failed?.detail,
    rolledBack: settled?.kind === "rolled-back" && settled.fields[0] === "yes",
    observed: parseObserved(stdout),
  };
}

const BOOT_ID_BODY = `${BOOT_TIME_FUNCTION}
Write-Record 'begin boot-id'
Write-Record ('boot ' + (Get-TrustedRootsBootTime))
Write-Record ('clock ' + [DateTime]::UtcNow.ToString('o'))
Write-Record 'done'`;

function parseBootId(stdout: string): BootReading {
  const refusal = windowsRefusal({ stdout, stderr: "", exitCode: 0 });
  const records = parseRecords(stdout);
  const boot = records.find((entry) => entry.kind === "boot")?.fields[0];
  const clock = records.find((entry) => entry.kind === "clock")?.fields[0];
  if (!boot || !clock) throw new ProtocolError(refusal ?? "the boot id script printed no @@boot and @@clock records");
  return { id: String(normalizeWindowsDate(boot)), hostClock: String(normalizeWindowsDate(clock)) };
}

/**
 * A later boot is one that started after the host's clock read `before`. Comparing boot times for equality
 * would take a VM's sub-second drift of LastBootUpTime for a reboot, and check health before it happened.
 */
function rebootedSince(before: BootReading, after: BootReading): boolean {
  const asked = Date.parse(before.hostClock ?? before.id);
  const booted = Date.parse(after.id);
  return Number.isFinite(asked) && Number.isFinite(booted) && booted > asked;
}

// shutdown.exe runs as a process whose exit code decides, never through PowerShell's error stream: Windows
// PowerShell 5.1 turns a native command's first stderr line into a terminating error under
// $ErrorActionPreference 'Stop' once it is redirected. Its output is kept as text for the message.
// 1190 (ERROR_SHUTDOWN_IS_SCHEDULED): a shutdown is already pending. 1115 (ERROR_SHUTDOWN_IN_PROGRESS): the host
// is going down already; the boot time then tells whether it came back.
const REBOOT_BODY = String.raw`Write-Record 'begin reboot'
$start = New-Object System.Diagnostics.ProcessStartInfo
$start.FileName = Join-Path ([Environment]::SystemDirectory) 'shutdown.exe'
$start.Arguments = '/r /t ' + ([int] $Data) + ' /c "trusted-roots: trust store changed"'
$start.UseShellExecute = $false
$start.RedirectStandardOutput = $true
$start.RedirectStandardError = $true
$process = [System.Diagnostics.Process]::Start($start)
$errorText = $process.StandardError.ReadToEndAsync()
$outputText = $process.StandardOutput.ReadToEnd()
$process.WaitForExit()
$output = ($outputText + ' ' + $errorText.Result).Trim()
if ($process.ExitCode -eq 1190) { Write-Failure 'shutdown-scheduled' 'a shutdown is already scheduled on this host (shutdown.exe exit 1190); let it run, or cancel it with shutdown /a and deploy again' }
elseif ($process.ExitCode -eq 1115) { Write-Record 'shutdown-in-progress'; Write-Record 'done' }
elseif ($process.ExitCode -ne 0) { Write-Failure 'reboot' ('shutdown.exe exited with ' + $process.ExitCode + ': ' + $output) }
else { Write-Record 'done' }`;

/** The Windows store platform over a store layout (the real stores, or the self-test's scratch ones). */
export function windowsPlatform(layout: WindowsStoreLayout): Platform {
  return {
    name: "windows",
    stores: ["Root", "CA", "Disallowed", "ClientAuthIssuer"],
    observeScript: (store) => observeScript(layout, store),
    parseObservation: parseWindowsObservation,
    applyScript: (plan) => applyScript(layout, plan),
    parseApply: (stdout, store) => parseWindowsApply(stdout, (output) => parseWindowsObservation(output, store)),
    bootIdScript: () => windowsScript(BOOT_ID_BODY),
    parseBootId,
    rebootedSince,
    rebootScript: (delaySeconds) => windowsScript(REBOOT_BODY, String(Math.max(0, Math.floor(delaySeconds)))),
  };
}

/** Windows Server (IIS): X509Store on LocalMachine Root / CA / Disallowed / ClientAuthIssuer through PowerShell. */
export const windows: Platform = windowsPlatform(REAL_STORES);
