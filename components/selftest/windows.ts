import { powershellCommand } from "../platforms/windows";
import type { RemoteScript } from "../platforms";

/** The custom store the Windows self-test creates and deletes: never Root, CA or Disallowed. */
export const SELFTEST_STORE = "TrustedRootsSelftest";

// One script for the whole cycle: create the scratch store, import, observe, remove, observe, delete the
// store, prove it is gone. The throw-away certificate arrives as base64 on stdin; each step prints
// `@@step <name> <ok|fail> <ms> <base64 detail>`.
const SCRIPT = `$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$storeName = '${SELFTEST_STORE}'
$registryPath = 'HKLM:\\SOFTWARE\\Microsoft\\SystemCertificates\\' + $storeName
function Write-Step([string] $Name, [bool] $Ok, [System.Diagnostics.Stopwatch] $Clock, [string] $Detail) {
  $encoded = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Detail))
  $outcome = 'fail'
  if ($Ok) { $outcome = 'ok' }
  [Console]::Out.WriteLine('@@step ' + $Name + ' ' + $outcome + ' ' + [int] $Clock.ElapsedMilliseconds + ' ' + $encoded)
}
[Console]::Out.WriteLine('@@begin selftest')
$certificate = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2(,[Convert]::FromBase64String([Console]::In.ReadToEnd().Trim()))
$store = New-Object System.Security.Cryptography.X509Certificates.X509Store($storeName, 'LocalMachine')
try {
  $clock = [System.Diagnostics.Stopwatch]::StartNew()
  $store.Open('ReadWrite')
  $store.Add($certificate)
  Write-Step 'import' $true $clock ('imported ' + $certificate.Thumbprint + ' into LocalMachine\\' + $storeName)
  $clock = [System.Diagnostics.Stopwatch]::StartNew()
  $found = @($store.Certificates.Find('FindByThumbprint', $certificate.Thumbprint, $false)).Count
  Write-Step 'observe-imported' ($found -eq 1) $clock ('found ' + $found)
  $clock = [System.Diagnostics.Stopwatch]::StartNew()
  $store.Remove($certificate)
  $left = @($store.Certificates.Find('FindByThumbprint', $certificate.Thumbprint, $false)).Count
  Write-Step 'remove' ($left -eq 0) $clock ('left ' + $left)
} catch {
  Write-Step 'error' $false ([System.Diagnostics.Stopwatch]::StartNew()) $_.Exception.Message
} finally {
  $store.Close()
  $clock = [System.Diagnostics.Stopwatch]::StartNew()
  if (Test-Path -LiteralPath $registryPath) { Remove-Item -LiteralPath $registryPath -Recurse -Force }
  Write-Step 'cleanup' (-not (Test-Path -LiteralPath $registryPath)) $clock ('removed ' + $registryPath)
}
`;

export function windowsSelftestScript(certificateDer: Buffer): RemoteScript {
  return { command: powershellCommand(SCRIPT), stdin: certificateDer.toString("base64"), elevation: "none" };
}
