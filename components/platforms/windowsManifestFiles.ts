import { z } from "zod";
import { jsonList } from "./windowsTransport";

/**
 * Where a Windows host keeps the manifest, and why only administrators can change it.
 *
 * The manifest decides what an apply may remove from LocalMachine\Root and lift from Disallowed, so whoever can
 * write it can drive those changes. By default `Users` may create files and folders under C:\ProgramData (and
 * CREATOR OWNER then gives them full control of what they made), so the folder is created with a protected DACL
 * (SYSTEM and Administrators only, owner Administrators), and before anything trusts the manifest the host
 * reports each folder's and the file's owner, DACL and reparse flag: the planner refuses what a non-administrator
 * owns or may write (this file's `manifestSecurityProblems`), and the apply refuses if any of it changed since.
 */

export const SYSTEM_SID = "S-1-5-18";
export const ADMINISTRATORS_SID = "S-1-5-32-544";
export const TRUSTED_INSTALLER_SID = "S-1-5-80-956008885-3425386-2390622700-2187553591-3037154413";

/** Who may own or write the manifest's folders and file. */
const ADMINISTRATIVE_SIDS: ReadonlyMap<string, string> = new Map([
  [SYSTEM_SID, "SYSTEM"],
  [ADMINISTRATORS_SID, "Administrators"],
  [TRUSTED_INSTALLER_SID, "TrustedInstaller"],
]);

/** Names for the SIDs an operator will meet in a finding (the host reports SIDs: names are localized). */
const WELL_KNOWN_SIDS: ReadonlyMap<string, string> = new Map([
  ...ADMINISTRATIVE_SIDS,
  ["S-1-1-0", "Everyone"],
  ["S-1-3-0", "CREATOR OWNER"],
  ["S-1-5-11", "Authenticated Users"],
  ["S-1-5-32-545", "Users"],
  ["S-1-5-4", "INTERACTIVE"],
]);

// Access bits that let a principal change a file or folder, or what is in it [winnt.h]: FILE_WRITE_DATA /
// FILE_ADD_FILE, FILE_APPEND_DATA / FILE_ADD_SUBDIRECTORY, FILE_WRITE_EA, FILE_DELETE_CHILD,
// FILE_WRITE_ATTRIBUTES, DELETE, WRITE_DAC, WRITE_OWNER, GENERIC_ALL, GENERIC_WRITE.
const WRITE_ACCESS = 0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x10000 | 0x40000 | 0x80000 | 0x10000000 | 0x40000000;

/** PowerShell the observe and apply scripts share: paths, security facts, the digest, the atomic replace. */
export const MANIFEST_FILE_FUNCTIONS = String.raw`function Get-TrustedRootsManifestPaths($Request) {
  $folders = @()
  $folder = $env:ProgramData
  foreach ($part in ([string] $Request.manifestDir).Split('\')) {
    $folder = Join-Path $folder $part
    $folders += $folder
  }
  return [ordered]@{ Folders = $folders; Manifest = (Join-Path $folder 'manifest.json') }
}
# Owner, DACL and reparse flag, by SID (names are localized). GetAttributes does not follow a reparse point.
function Get-TrustedRootsPathSecurity([string] $Path) {
  $facts = [ordered]@{ Path = $Path; Exists = $false }
  try { $attributes = [IO.File]::GetAttributes($Path) } catch {
    if ([IO.File]::Exists($Path) -or [IO.Directory]::Exists($Path)) { throw }
    return $facts
  }
  $facts.Exists = $true
  $facts.Folder = (($attributes -band [IO.FileAttributes]::Directory) -ne 0)
  $facts.ReparsePoint = (($attributes -band [IO.FileAttributes]::ReparsePoint) -ne 0)
  if ($facts.Folder) { $acl = [IO.Directory]::GetAccessControl($Path) } else { $acl = [IO.File]::GetAccessControl($Path) }
  $facts.Owner = $acl.GetOwner([System.Security.Principal.SecurityIdentifier]).Value
  $facts.Rules = @(foreach ($rule in $acl.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier])) {
    [ordered]@{
      Sid = $rule.IdentityReference.Value
      Allow = ($rule.AccessControlType -eq [System.Security.AccessControl.AccessControlType]::Allow)
      Rights = [int] $rule.FileSystemRights
      InheritOnly = (($rule.PropagationFlags -band [System.Security.AccessControl.PropagationFlags]::InheritOnly) -ne 0)
    }
  })
  return $facts
}
function Get-TrustedRootsSecurity($Paths) {
  return @(foreach ($path in (@($Paths.Folders) + @($Paths.Manifest))) { Get-TrustedRootsPathSecurity $path })
}
# A compiled class, not Get-FileHash: that is a script-module function, which a Group Policy execution policy
# (Restricted, AllSigned) blocks whatever -ExecutionPolicy says. The CSP class is FIPS-validated and on .NET 4.5+.
function Get-TrustedRootsDigest([byte[]] $Bytes) {
  $sha = New-Object System.Security.Cryptography.SHA256CryptoServiceProvider
  try { return ([BitConverter]::ToString($sha.ComputeHash($Bytes)) -replace '-', '').ToLowerInvariant() } finally { $sha.Dispose() }
}
function Get-TrustedRootsManifestDigest($Paths) {
  if (-not [IO.File]::Exists($Paths.Manifest)) { return 'absent' }
  return Get-TrustedRootsDigest ([IO.File]::ReadAllBytes($Paths.Manifest))
}
function Get-TrustedRootsSecurityDigest($Security) {
  return (Get-TrustedRootsDigest ([Text.Encoding]::UTF8.GetBytes((ConvertTo-Json -InputObject @($Security) -Depth 5 -Compress)))).Substring(0, 16)
}
# What an apply compares under its lock: the manifest's bytes, and who owns and may write it and its folders.
function Get-TrustedRootsBasis($Paths) {
  return (Get-TrustedRootsManifestDigest $Paths) + ';acl:' + (Get-TrustedRootsSecurityDigest (Get-TrustedRootsSecurity $Paths))
}
function New-TrustedRootsSid([string] $Sid) { return New-Object System.Security.Principal.SecurityIdentifier($Sid) }
# SYSTEM and Administrators, inherited by everything below; nothing inherited from C:\ProgramData.
function New-TrustedRootsFolderSecurity {
  $security = New-Object System.Security.AccessControl.DirectorySecurity
  $security.SetAccessRuleProtection($true, $false)
  foreach ($sid in @('${SYSTEM_SID}', '${ADMINISTRATORS_SID}')) {
    $security.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule((New-TrustedRootsSid $sid), 'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow')))
  }
  $security.SetOwner((New-TrustedRootsSid '${ADMINISTRATORS_SID}'))
  return $security
}
# Creates each missing folder administrators-only, and makes one an older version created with inherited ACLs so.
function Protect-TrustedRootsFolders($Paths) {
  foreach ($folder in @($Paths.Folders)) {
    if ([IO.Directory]::Exists($folder)) { [IO.Directory]::SetAccessControl($folder, (New-TrustedRootsFolderSecurity)) }
    else { [void] [IO.Directory]::CreateDirectory($folder, (New-TrustedRootsFolderSecurity)) }
  }
}
# An unpredictable name, created only if absent, owned by Administrators.
function Write-TrustedRootsStagingFile($Paths, [byte[]] $Bytes) {
  $staging = $Paths.Manifest + '.' + [Guid]::NewGuid().ToString('N') + '.new'
  $stream = New-Object IO.FileStream($staging, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, [IO.FileShare]::None)
  try { $stream.Write($Bytes, 0, $Bytes.Length) } finally { $stream.Dispose() }
  $acl = [IO.File]::GetAccessControl($staging)
  $acl.SetOwner((New-TrustedRootsSid '${ADMINISTRATORS_SID}'))
  [IO.File]::SetAccessControl($staging, $acl)
  return $staging
}
# [IO.File]::Replace keeps the replaced file's ACL (checked before) and leaves the old file or the new one.
# ReplaceFile's ERROR_UNABLE_TO_MOVE_REPLACEMENT(_2) (1176/1177) can leave the replaced file gone or renamed and
# the new one under its staging name: the move is finished here, so that a manifest always exists.
function Set-TrustedRootsManifest([string] $Staging, [string] $Path, $Backup) {
  if (-not [IO.File]::Exists($Path)) { [IO.File]::Move($Staging, $Path); return }
  try { [IO.File]::Replace($Staging, $Path, $Backup) } catch {
    if ((-not [IO.File]::Exists($Path)) -and [IO.File]::Exists($Staging)) { [IO.File]::Move($Staging, $Path) } else { throw }
  }
}`;

const ruleSchema = z.object({ Sid: z.string(), Allow: z.boolean(), Rights: z.number().int(), InheritOnly: z.boolean() });

/** What the host reports for one manifest folder or the manifest file. */
export const pathSecuritySchema = z.object({
  Path: z.string(),
  Exists: z.boolean(),
  Folder: z.boolean().optional(),
  ReparsePoint: z.boolean().optional(),
  Owner: z.string().optional(),
  Rules: jsonList(ruleSchema).optional(),
});
export type PathSecurity = z.infer<typeof pathSecuritySchema>;

const nameOf = (sid: string) => (WELL_KNOWN_SIDS.has(sid) ? `${sid} (${WELL_KNOWN_SIDS.get(sid)})` : sid);

/** The principals other than SYSTEM, Administrators and TrustedInstaller that may change this path. */
function outsideWriters(facts: PathSecurity): string[] {
  const writers = (facts.Rules ?? []).filter((rule) => rule.Allow && !rule.InheritOnly && ((rule.Rights >>> 0) & WRITE_ACCESS) !== 0 && !ADMINISTRATIVE_SIDS.has(rule.Sid));
  return [...new Set(writers.map((rule) => nameOf(rule.Sid)))];
}

export interface ManifestSecurityFindings {
  /** What makes the manifest untrustworthy: the planner refuses while any is left. */
  refusals: string[];
  /** A folder an administrator owns that others may write into: the next apply makes it administrators-only. */
  tightened: string[];
}

const FIX_FOLDER = (path: string) =>
  `icacls "${path}" /setowner *${ADMINISTRATORS_SID} && icacls "${path}" /inheritance:r /grant:r *${SYSTEM_SID}:(OI)(CI)F *${ADMINISTRATORS_SID}:(OI)(CI)F`;

/**
 * Whether the manifest can be trusted, from what the host reported for each folder (outermost first) and the
 * file. Pure: the same facts always give the same sentences.
 */
export function manifestSecurityProblems(paths: readonly PathSecurity[]): ManifestSecurityFindings {
  const refusals: string[] = [];
  const tightened: string[] = [];
  for (const facts of paths) {
    if (!facts.Exists) continue;
    const kind = facts.Folder ? "folder" : "file";
    if (facts.ReparsePoint) {
      refusals.push(`${facts.Path} is a reparse point (a junction or symbolic link): whoever made it decides where the manifest is read and written. Remove the link (rmdir "${facts.Path}") and deploy again; the tool creates a real, administrators-only folder`);
      continue;
    }
    const owner = facts.Owner ?? "unknown";
    const writers = outsideWriters(facts);
    if (!ADMINISTRATIVE_SIDS.has(owner)) {
      refusals.push(
        `the manifest ${kind} ${facts.Path} is owned by ${nameOf(owner)}, not SYSTEM or Administrators: its owner can rewrite its permissions and entries. ` +
          `Check the manifest's entries against your declarations, then, as an administrator: ${facts.Folder ? FIX_FOLDER(facts.Path) : `icacls "${facts.Path}" /setowner *${ADMINISTRATORS_SID} && icacls "${facts.Path}" /reset`}`,
      );
    } else if (writers.length > 0 && !facts.Folder) {
      refusals.push(
        `the manifest ${facts.Path} may be written by ${writers.join(", ")}: entries there decide what is removed from LocalMachine\\Root and lifted from Disallowed. ` +
          `Check its entries against your declarations, then, as an administrator: icacls "${facts.Path}" /reset (it then inherits the folder's administrators-only permissions)`,
      );
    } else if (writers.length > 0) {
      tightened.push(`${facts.Path} lets ${writers.join(", ")} create or change files in it; the next apply on this host makes it administrators-only (or now: ${FIX_FOLDER(facts.Path)})`);
    }
  }
  return { refusals, tightened };
}
