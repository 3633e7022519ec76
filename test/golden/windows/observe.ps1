param([string] $Data)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
function ConvertTo-RecordField([string] $Text) { return [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Text)) }
function Write-Record([string] $Line) { [Console]::Out.WriteLine('@@' + $Line) }
function Write-Failure([string] $Step, [string] $Detail) { Write-Record ('failed ' + $Step + ' ' + (ConvertTo-RecordField $Detail)) }
function Get-TrustedRootsManifestPaths($Request) {
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
  foreach ($sid in @('S-1-5-18', 'S-1-5-32-544')) {
    $security.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule((New-TrustedRootsSid $sid), 'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow')))
  }
  $security.SetOwner((New-TrustedRootsSid 'S-1-5-32-544'))
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
  $acl.SetOwner((New-TrustedRootsSid 'S-1-5-32-544'))
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
}
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
# Everything that asks for a reboot before it takes effect; PendingFileRenameOperations is often set by
# installers and anti-virus updates too, so a reason is named, never guessed.
function Get-TrustedRootsPendingReboot {
  $reasons = @()
  if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') { $reasons += 'Component Based Servicing' }
  if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired') { $reasons += 'Windows Update' }
  foreach ($name in @('PendingFileRenameOperations', 'PendingFileRenameOperations2')) {
    $value = Get-RegistryValue 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' $name
    if (($null -ne $value) -and (@(@($value) -ne '').Count -gt 0)) { $reasons += $name }
  }
  if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\ServerManager\CurrentRebootAttempts') { $reasons += 'Server Manager' }
  return $reasons
}
function Get-TrustedRootsBootTime {
  return (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')
}
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
}
function Write-TrustedRootsObservation($Request) {
  $autoUpdate = 'HKLM:\SOFTWARE\Microsoft\SystemCertificates\AuthRoot\AutoUpdate'
  $schannel = 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\Schannel'
  $observation = New-TrustedRootsObservation $Request
  $observation.Certificates = @(Get-TrustedRootsCertificates $Request.store)
  $observation.Distrusted = @(Get-TrustedRootsCertificates $Request.disallowedStore)
  $observation.TrustList = Get-RegistryBlob $autoUpdate 'EncodedCtl'
  $observation.DisallowedTrustList = Get-RegistryBlob $autoUpdate 'DisallowedCertEncodedCtl'
  $observation.ClientAuthTrustMode = Get-RegistryValue $schannel 'ClientAuthTrustMode'
  $observation.SendTrustedIssuerList = Get-RegistryValue $schannel 'SendTrustedIssuerList'
  Write-Record ('observation ' + (ConvertTo-RecordField ($observation | ConvertTo-Json -Depth 6 -Compress)))
}
$request = $Data | ConvertFrom-Json
Write-Record 'begin observe'
Write-TrustedRootsObservation $request
Write-Record 'done'
