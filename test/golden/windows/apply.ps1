param([string] $Data)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
function ConvertTo-RecordField([string] $Text) { return [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Text)) }
function Write-Record([string] $Line) { [Console]::Out.WriteLine('@@' + $Line) }
function Write-Failure([string] $Step, [string] $Detail) { Write-Record ('failed ' + $Step + ' ' + (ConvertTo-RecordField $Detail)) }
function Get-TrustedRootsCertificates([string] $StoreName) {
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
  $store.Open('ReadOnly')
  try {
    return @(foreach ($certificate in $store.Certificates) {
      $stores = @()
      if ($where.ContainsKey($certificate.Thumbprint)) { $stores = @($where[$certificate.Thumbprint]) }
      [ordered]@{ Thumbprint = $certificate.Thumbprint; RawData = [Convert]::ToBase64String($certificate.RawData); PhysicalStores = $stores }
    })
  } finally { $store.Close() }
}
function Get-RegistryValue([string] $Path, [string] $Name) {
  $item = Get-ItemProperty -LiteralPath $Path -Name $Name -ErrorAction SilentlyContinue
  if ($null -eq $item) { return $null }
  return $item.$Name
}
function Get-RegistryBlob([string] $Path, [string] $Name) {
  $value = Get-RegistryValue $Path $Name
  if ($null -eq $value) { return '' }
  return [Convert]::ToBase64String([byte[]] $value)
}
function Write-TrustedRootsObservation($Request) {
  $manifestPath = Join-Path (Join-Path $env:ProgramData $Request.manifestDir) 'manifest.json'
  $manifest = $null
  if (Test-Path -LiteralPath $manifestPath) { $manifest = [Convert]::ToBase64String([IO.File]::ReadAllBytes($manifestPath)) }
  $pending = (Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') -or
    (Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired')
  $autoUpdate = 'HKLM:\SOFTWARE\Microsoft\SystemCertificates\AuthRoot\AutoUpdate'
  $schannel = 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\Schannel'
  $observation = [ordered]@{
    BootId = (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')
    PendingReboot = [bool] $pending
    Manifest = $manifest
    Certificates = @(Get-TrustedRootsCertificates $Request.store)
    Distrusted = @(Get-TrustedRootsCertificates $Request.disallowedStore)
    TrustList = Get-RegistryBlob $autoUpdate 'EncodedCtl'
    DisallowedTrustList = Get-RegistryBlob $autoUpdate 'DisallowedCertEncodedCtl'
    ClientAuthTrustMode = Get-RegistryValue $schannel 'ClientAuthTrustMode'
    SendTrustedIssuerList = Get-RegistryValue $schannel 'SendTrustedIssuerList'
  }
  Write-Record ('observation ' + (ConvertTo-RecordField ($observation | ConvertTo-Json -Depth 6 -Compress)))
}
$payload = $Data | ConvertFrom-Json
Write-Record 'begin apply'
$manifestDir = Join-Path $env:ProgramData $payload.manifestDir
$manifestPath = Join-Path $manifestDir 'manifest.json'
$mutex = New-Object System.Threading.Mutex($false, 'Global\trusted-roots')
$locked = $false
try { $locked = $mutex.WaitOne(120000) } catch {
  if (($_.Exception -is [System.Threading.AbandonedMutexException]) -or ($_.Exception.InnerException -is [System.Threading.AbandonedMutexException])) { $locked = $true } else { throw }
}
if (-not $locked) {
  Write-Failure 'lock' 'another trusted-roots apply held the host lock for 120 s; nothing was changed'
  Write-Record 'rolled-back yes'
  Write-TrustedRootsObservation $payload
  return
}
$exitRecord = 'applied'
try {
  $current = 'absent'
  if (Test-Path -LiteralPath $manifestPath) { $current = (Get-FileHash -Algorithm SHA256 -LiteralPath $manifestPath).Hash.ToLowerInvariant() }
  if ($current -ne [string] $payload.basis) {
    Write-Failure 'conflict' 'the store changed after it was observed (another run?); observe again and re-plan'
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
  if (Test-Path -LiteralPath $manifestPath) { $manifestBefore = [IO.File]::ReadAllBytes($manifestPath) }
  $staging = $manifestPath + '.trusted-roots-new'
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
    [void] (New-Item -ItemType Directory -Force -Path $manifestDir)
    [IO.File]::WriteAllBytes($staging, [Convert]::FromBase64String($payload.manifest))
    # The manifest it replaces (one this version could read) stays beside it as manifest.json.previous.
    if (Test-Path -LiteralPath $manifestPath) { [IO.File]::Replace($staging, $manifestPath, $manifestPath + '.previous') } else { [IO.File]::Move($staging, $manifestPath) }
  } catch {
    Write-Failure $step $_.Exception.Message
    $exitRecord = 'rolled-back yes'
    try {
      foreach ($certificate in $added) { $store.Remove($certificate) }
      foreach ($certificate in $removed) { $store.Add($certificate) }
      foreach ($certificate in $distrustAdded) { $disallowed.Remove($certificate) }
      foreach ($certificate in $distrustRemoved) { $disallowed.Add($certificate) }
      if ($null -ne $manifestBefore) {
        [IO.File]::WriteAllBytes($staging, $manifestBefore)
        [IO.File]::Replace($staging, $manifestPath, [NullString]::Value)
      } elseif (Test-Path -LiteralPath $manifestPath) { Remove-Item -LiteralPath $manifestPath -Force }
    } catch { $exitRecord = 'rolled-back failed' }
  } finally {
    $store.Close()
    $disallowed.Close()
  }
  Write-Record $exitRecord
  Write-TrustedRootsObservation $payload
} finally { $mutex.ReleaseMutex() }
