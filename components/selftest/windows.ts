import { windowsPlatform, type WindowsStoreLayout } from "../platforms/windows";
import { ADMINISTRATORS_SID, manifestSecurityProblems, SYSTEM_SID, type PathSecurity } from "../platforms/windowsManifestFiles";
import { windowsScript } from "../platforms/windowsTransport";
import type { Platform, RemoteScript } from "../platforms";

/** The custom stores the Windows self-test creates and deletes: never Root, CA, Disallowed or ClientAuthIssuer. */
export const SELFTEST_STORE = "TrustedRootsSelftest";
export const SELFTEST_DISALLOWED_STORE = "TrustedRootsSelftestDisallowed";
const SELFTEST_MANIFEST_DIR = "trusted-roots\\selftest";

/** Every logical store maps to a scratch store, and the manifest to a folder of its own. */
export const SELFTEST_LAYOUT: WindowsStoreLayout = {
  storeOnHost: (store) => (store === "Disallowed" ? SELFTEST_DISALLOWED_STORE : SELFTEST_STORE),
  manifestDir: SELFTEST_MANIFEST_DIR,
};

/** The production platform (same bootstrap, same observe and apply scripts, same rollback) on the scratch stores. */
export const windowsScratchPlatform: Platform = windowsPlatform(SELFTEST_LAYOUT);

/**
 * Whether the manifest folders an apply created are what it promises: each exists, is no reparse point, is owned
 * by SYSTEM or Administrators, and grants nothing to anyone else (the parser has already checked that the
 * host's SHA-256 of the manifest is this machine's). Empty when they are; otherwise what is wrong.
 */
export function manifestFolderFindings(security: readonly PathSecurity[]): string[] {
  const { refusals, tightened } = manifestSecurityProblems(security);
  const missing = security.filter((facts) => !facts.Exists).map((facts) => `${facts.Path} does not exist`);
  const strangers = security.flatMap((facts) =>
    (facts.Rules ?? []).filter((rule) => rule.Sid !== SYSTEM_SID && rule.Sid !== ADMINISTRATORS_SID).map((rule) => `${facts.Path} grants ${rule.Sid} access (rights 0x${(rule.Rights >>> 0).toString(16)})`),
  );
  return [...missing, ...refusals, ...tightened, ...strangers];
}

// Deletes the scratch stores' registry keys and the scratch manifest folder, then proves they are gone. The folder
// is emptied of the manifest's own files only and removed non-recursively; a reparse point is never followed.
const CLEANUP_BODY = String.raw`Write-Record 'begin cleanup'
$request = $Data | ConvertFrom-Json
$left = @()
foreach ($name in @($request.stores)) {
  $key = 'HKLM:\SOFTWARE\Microsoft\SystemCertificates\' + $name
  if (Test-Path -LiteralPath $key) { Remove-Item -LiteralPath $key -Recurse -Force }
  if (Test-Path -LiteralPath $key) { $left += $key }
}
$folder = Join-Path $env:ProgramData $request.manifestDir
if ([IO.Directory]::Exists($folder)) {
  try {
    if (([IO.File]::GetAttributes($folder) -band [IO.FileAttributes]::ReparsePoint) -ne 0) { throw 'it is a reparse point (a junction or link); it was not followed' }
    foreach ($file in [IO.Directory]::GetFiles($folder, 'manifest.json*')) { [IO.File]::Delete($file) }
    [IO.Directory]::Delete($folder, $false)
  } catch { $left += ($folder + ' (' + $_.Exception.Message + ')') }
}
if ($left.Count -gt 0) { Write-Failure 'cleanup' ('could not remove ' + ($left -join ', ')) } else { Write-Record 'done' }`;

export function windowsSelftestCleanupScript(): RemoteScript {
  return windowsScript(CLEANUP_BODY, JSON.stringify({ stores: [SELFTEST_STORE, SELFTEST_DISALLOWED_STORE], manifestDir: SELFTEST_MANIFEST_DIR }));
}
