$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding($false)
function Get-TrustedRootsObservation([string] $StoreName) {
  $physical = [ordered]@{
    '.Default' = 'HKLM:\SOFTWARE\Microsoft\SystemCertificates\' + $StoreName + '\Certificates'
    '.GroupPolicy' = 'HKLM:\SOFTWARE\Policies\Microsoft\SystemCertificates\' + $StoreName + '\Certificates'
    '.Enterprise' = 'HKLM:\SOFTWARE\Microsoft\EnterpriseCertificates\' + $StoreName + '\Certificates'
  }
  if ($StoreName -eq 'Root') { $physical['.AuthRoot'] = 'HKLM:\SOFTWARE\Microsoft\SystemCertificates\AuthRoot\Certificates' }
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
  $manifestPath = Join-Path $env:ProgramData 'trusted-roots\manifest.json'
  $manifest = $null
  if (Test-Path -LiteralPath $manifestPath) { $manifest = [IO.File]::ReadAllText($manifestPath) }
  $pending = (Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') -or
    (Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired')
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
}
$StoreName = 'Root'
[Console]::Out.WriteLine('@@begin apply')
$payload = [Console]::In.ReadToEnd() | ConvertFrom-Json
$manifestDir = Join-Path $env:ProgramData 'trusted-roots'
$manifestPath = Join-Path $manifestDir 'manifest.json'
$mutex = New-Object System.Threading.Mutex($false, 'Global\trusted-roots')
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
exit $exitCode
