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
$request = $Data | ConvertFrom-Json
Write-Record 'begin observe'
Write-TrustedRootsObservation $request
Write-Record 'done'
