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
[Console]::Out.WriteLine('@@begin observe')
Write-TrustedRootsObservation 'Root'
