import { windowsPlatform, type WindowsStoreLayout } from "../platforms/windows";
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

// Deletes the scratch stores' registry keys and the scratch manifest folder, then proves they are gone.
const CLEANUP_BODY = `Write-Record 'begin cleanup'
$request = $Data | ConvertFrom-Json
$left = @()
foreach ($name in @($request.stores)) {
  $key = 'HKLM:\\SOFTWARE\\Microsoft\\SystemCertificates\\' + $name
  if (Test-Path -LiteralPath $key) { Remove-Item -LiteralPath $key -Recurse -Force }
  if (Test-Path -LiteralPath $key) { $left += $key }
}
$folder = Join-Path $env:ProgramData $request.manifestDir
if (Test-Path -LiteralPath $folder) { Remove-Item -LiteralPath $folder -Recurse -Force }
if (Test-Path -LiteralPath $folder) { $left += $folder }
if ($left.Count -gt 0) { Write-Failure 'cleanup' ('could not remove ' + ($left -join ', ')) } else { Write-Record 'done' }`;

export function windowsSelftestCleanupScript(): RemoteScript {
  return windowsScript(CLEANUP_BODY, JSON.stringify({ stores: [SELFTEST_STORE, SELFTEST_DISALLOWED_STORE], manifestDir: SELFTEST_MANIFEST_DIR }));
}
