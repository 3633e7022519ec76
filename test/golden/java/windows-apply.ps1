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
function Find-TrustedRootsOnPath([string] $Name) {
  $folders = @(([string] [Environment]::GetEnvironmentVariable('Path', 'Machine')).Split(';')) + @(([string] $env:Path).Split(';'))
  foreach ($folder in $folders) {
    if ([string]::IsNullOrWhiteSpace($folder)) { continue }
    try { $candidate = [IO.Path]::Combine([Environment]::ExpandEnvironmentVariables($folder.Trim().Trim('"')), $Name) } catch { continue }
    if ([IO.File]::Exists($candidate)) { return $candidate }
  }
  return $null
}
function Resolve-TrustedRootsLink([string] $Path) {
  $item = Get-Item -LiteralPath $Path -Force
  if ((($item.Attributes -band [IO.FileAttributes]::ReparsePoint) -ne 0) -and ($null -ne $item.Target)) {
    $target = [string] @($item.Target)[0]
    if (-not [IO.Path]::IsPathRooted($target)) { $target = [IO.Path]::Combine($item.DirectoryName, $target) }
    return [IO.Path]::GetFullPath($target)
  }
  return $Path
}
function Find-TrustedRootsKeystore($Request) {
  $found = [ordered]@{ Path = $null; Keytool = $null; Failure = $null }
  $kind = [string] $Request.kind
  $machineHome = [Environment]::GetEnvironmentVariable('JAVA_HOME', 'Machine')
  if ($kind -eq 'file') { $found.Path = [IO.Path]::GetFullPath([string] $Request.target) }
  else {
    if ($kind -eq 'jdk') { $javaHome = [string] $Request.target }
    elseif (-not [string]::IsNullOrEmpty($machineHome)) { $javaHome = $machineHome }
    else {
      $java = Find-TrustedRootsOnPath 'java.exe'
      if ($null -eq $java) { $found.Failure = 'no JAVA_HOME (machine) and no java.exe on PATH: install a JRE, or declare the JDK (kind jdk, javaHome)'; return $found }
      $javaHome = [IO.Path]::GetDirectoryName([IO.Path]::GetDirectoryName((Resolve-TrustedRootsLink $java)))
    }
    foreach ($relative in @('lib\security\cacerts', 'jre\lib\security\cacerts')) {
      $candidate = [IO.Path]::Combine($javaHome, $relative)
      if ([IO.File]::Exists($candidate)) { $found.Path = [IO.Path]::GetFullPath($candidate); break }
    }
    if ($null -eq $found.Path) { $found.Failure = 'no cacerts under ' + $javaHome + ' (lib\security or jre\lib\security): is it a JDK''s home?'; return $found }
    $keytool = [IO.Path]::Combine($javaHome, 'bin\keytool.exe')
    if ([IO.File]::Exists($keytool)) { $found.Keytool = $keytool }
  }
  if (($null -eq $found.Keytool) -and (-not [string]::IsNullOrEmpty($machineHome)) -and [IO.File]::Exists([IO.Path]::Combine($machineHome, 'bin\keytool.exe'))) { $found.Keytool = [IO.Path]::Combine($machineHome, 'bin\keytool.exe') }
  if ($null -eq $found.Keytool) { $found.Keytool = Find-TrustedRootsOnPath 'keytool.exe' }
  return $found
}
function Get-TrustedRootsFileDigest([string] $Path) { return (Get-TrustedRootsFileFacts $Path).Digest }
function Write-TrustedRootsJavaObservation($Request) {
  $observation = New-TrustedRootsObservation $Request
  $found = Find-TrustedRootsKeystore $Request
  $keystore = @{ Bytes = $null; Digest = 'absent' }
  if ($null -eq $found.Failure) { $keystore = Get-TrustedRootsFileFacts $found.Path }
  $observation.KeystorePath = $found.Path
  $observation.Keystore = $keystore.Bytes
  $observation.KeystoreDigest = $keystore.Digest
  $observation.Keytool = $found.Keytool
  $observation.LocateFailure = $found.Failure
  Write-Record ('observation ' + (ConvertTo-RecordField ($observation | ConvertTo-Json -Depth 6 -Compress)))
}
function Open-TrustedRootsLock {
  $security = New-Object System.Security.AccessControl.MutexSecurity
  foreach ($sid in @('S-1-5-18', 'S-1-5-32-544')) {
    $security.AddAccessRule((New-Object System.Security.AccessControl.MutexAccessRule((New-TrustedRootsSid $sid), [System.Security.AccessControl.MutexRights]::FullControl, [System.Security.AccessControl.AccessControlType]::Allow)))
  }
  $security.SetOwner((New-TrustedRootsSid 'S-1-5-32-544'))
  $created = $false
  $mutex = New-Object System.Threading.Mutex($false, 'Global\trusted-roots', [ref] $created, $security)
  if (-not $created) {
    $owner = $mutex.GetAccessControl().GetOwner([System.Security.Principal.SecurityIdentifier]).Value
    if (@('S-1-5-18', 'S-1-5-32-544') -notcontains $owner) {
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
}
function Test-TrustedRootsKeystore([string] $Keytool, [string] $Keystore, [string] $Type, [string] $Password, [string] $Folder) {
  if ($Type -notmatch '^(JKS|PKCS12)$') { throw ('not a keystore type: ' + $Type) }
  $passwordFile = Join-Path $Folder 'storepass'
  $bytes = (New-Object Text.UTF8Encoding($false)).GetBytes($Password)
  $stream = New-Object IO.FileStream($passwordFile, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, [IO.FileShare]::None)
  try { $stream.Write($bytes, 0, $bytes.Length) } finally { $stream.Dispose() }
  try {
    $start = New-Object System.Diagnostics.ProcessStartInfo
    $start.FileName = $Keytool
    $start.Arguments = '-list -keystore "' + $Keystore + '" -storetype ' + $Type + ' -storepass:file "' + $passwordFile + '"'
    $start.UseShellExecute = $false
    $start.CreateNoWindow = $true
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $process = [System.Diagnostics.Process]::Start($start)
    $errorText = $process.StandardError.ReadToEndAsync()
    $outputText = $process.StandardOutput.ReadToEnd()
    $process.WaitForExit()
    if ($process.ExitCode -ne 0) { throw ('keytool could not read the new keystore with the password (exit ' + $process.ExitCode + '): ' + ($errorText.Result + ' ' + $outputText).Trim()) }
  } finally { [IO.File]::Delete($passwordFile) }
}
function Set-TrustedRootsKeystoreBytes([string] $Path, [byte[]] $Bytes) {
  $staging = $Path + '.' + [Guid]::NewGuid().ToString('N') + '.trusted-roots-new'
  $stream = New-Object IO.FileStream($staging, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, [IO.FileShare]::None)
  try { $stream.Write($Bytes, 0, $Bytes.Length) } finally { $stream.Dispose() }
  # Replace keeps the keystore's ACL and owner; a keystore not there yet takes its folder's.
  if ([IO.File]::Exists($Path)) { [IO.File]::Replace($staging, $Path, $null) } else { [IO.File]::Move($staging, $Path) }
}
function Undo-TrustedRootsJavaTransaction([string] $Txn, $Paths) {
  $state = [IO.File]::ReadAllText((Join-Path $Txn 'state.json')) | ConvertFrom-Json
  if ((Get-TrustedRootsFileDigest $state.keystore) -ne [string] $state.original) {
    $original = Join-Path $Txn 'keystore.original'
    if ([IO.File]::Exists($original)) { Set-TrustedRootsKeystoreBytes $state.keystore ([IO.File]::ReadAllBytes($original)) }
    elseif ([IO.File]::Exists($state.keystore)) { [IO.File]::Delete($state.keystore) }
  }
  $manifest = Join-Path $Txn 'manifest.original'
  if ((Get-TrustedRootsFileDigest $Paths.Manifest) -eq (Get-TrustedRootsFileDigest $manifest)) { return }
  if ([IO.File]::Exists($manifest)) { Set-TrustedRootsManifest (Write-TrustedRootsStagingFile $Paths ([IO.File]::ReadAllBytes($manifest))) $Paths.Manifest $null }
  elseif ([IO.File]::Exists($Paths.Manifest)) { [IO.File]::Delete($Paths.Manifest) }
}
function Complete-TrustedRootsJavaTransactions($Paths) {
  $folder = @($Paths.Folders)[-1]
  $settled = $false
  if (-not [IO.Directory]::Exists($folder)) { return $settled }
  foreach ($txn in @([IO.Directory]::GetDirectories($folder, 'txn.*'))) {
    $statePath = Join-Path $txn 'state.json'
    if ([IO.File]::Exists((Join-Path $txn 'committed')) -or (-not [IO.File]::Exists($statePath))) { [IO.Directory]::Delete($txn, $true); continue }
    $state = [IO.File]::ReadAllText($statePath) | ConvertFrom-Json
    $now = Get-TrustedRootsFileDigest $state.keystore
    if (($now -eq [string] $state.new) -or ($now -eq [string] $state.original)) { Undo-TrustedRootsJavaTransaction $txn $Paths }
    elseif ([IO.File]::Exists((Join-Path $txn 'moved'))) { Set-TrustedRootsManifest (Write-TrustedRootsStagingFile $Paths ([IO.File]::ReadAllBytes((Join-Path $txn 'manifest.planned')))) $Paths.Manifest $null }
    $keystoreFolder = [IO.Path]::GetDirectoryName([string] $state.keystore)
    if ([IO.Directory]::Exists($keystoreFolder)) {
      foreach ($leftover in @([IO.Directory]::GetFiles($keystoreFolder, ([IO.Path]::GetFileName([string] $state.keystore) + '.*.trusted-roots-new')))) { [IO.File]::Delete($leftover) }
    }
    [IO.Directory]::Delete($txn, $true)
    $settled = $true
  }
  return $settled
}
$payload = $Data | ConvertFrom-Json
Write-Record 'begin apply'
$paths = Get-TrustedRootsManifestPaths $payload
$mutex = Enter-TrustedRootsLock
if ($null -eq $mutex) {
  Write-Record 'rolled-back yes'
  Write-TrustedRootsJavaObservation $payload
  return
}
try {
  $refusal = $null
  if (Complete-TrustedRootsJavaTransactions $paths) { $refusal = @('conflict', 'an interrupted apply was found and settled (undone, or kept where the keystore changed since); observe again and re-plan') }
  else {
    $found = Find-TrustedRootsKeystore $payload
    if ($null -ne $found.Failure) { $refusal = @('prerequisite', $found.Failure) }
    elseif ($null -eq $found.Keytool) { $refusal = @('prerequisite', 'keytool.exe was not found (install a JRE and set JAVA_HOME, or declare the JDK with kind jdk and javaHome); nothing was changed') }
    elseif (((Get-TrustedRootsBasis $paths) -ne [string] $payload.basis) -or ((Get-TrustedRootsFileDigest $found.Path) -ne [string] $payload.keystoreBasis)) {
      $refusal = @('conflict', 'the keystore or its manifest changed after it was observed (another run, a JDK update?); observe again and re-plan')
    }
  }
  if ($null -ne $refusal) {
    Write-Failure $refusal[0] $refusal[1]
    Write-Record 'rolled-back yes'
    Write-TrustedRootsJavaObservation $payload
    return
  }
  $exitRecord = 'applied'
  $keystoreBytes = [Convert]::FromBase64String($payload.keystore)
  $manifestBytes = [Convert]::FromBase64String($payload.manifest)
  $txn = $null
  $step = 'transaction'
  try {
    Protect-TrustedRootsFolders $paths
    $txn = Join-Path @($paths.Folders)[-1] ('txn.' + [Guid]::NewGuid().ToString('N'))
    [void] [IO.Directory]::CreateDirectory($txn)
    if ([IO.File]::Exists($found.Path)) { [IO.File]::Copy($found.Path, (Join-Path $txn 'keystore.original')) }
    if ([IO.File]::Exists($paths.Manifest)) { [IO.File]::Copy($paths.Manifest, (Join-Path $txn 'manifest.original')) }
    [IO.File]::WriteAllBytes((Join-Path $txn 'manifest.planned'), $manifestBytes)
    # Written last: a transaction folder without it changed nothing yet.
    $state = [ordered]@{ keystore = $found.Path; original = [string] $payload.keystoreBasis; new = [string] $payload.keystoreDigest }
    [IO.File]::WriteAllText((Join-Path $txn 'state.json'), (ConvertTo-Json -InputObject $state -Compress))
    $step = 'verify'
    $keystoreFolder = [IO.Path]::GetDirectoryName($found.Path)
    if (-not [IO.Directory]::Exists($keystoreFolder)) { [void] [IO.Directory]::CreateDirectory($keystoreFolder) }
    $candidate = Join-Path $txn 'keystore.new'
    [IO.File]::WriteAllBytes($candidate, $keystoreBytes)
    Test-TrustedRootsKeystore $found.Keytool $candidate $payload.type $payload.password $txn
    $step = 'keystore'
    Set-TrustedRootsKeystoreBytes $found.Path $keystoreBytes
    [IO.File]::WriteAllText((Join-Path $txn 'moved'), '')
    $step = 'manifest'
    Set-TrustedRootsManifest (Write-TrustedRootsStagingFile $paths $manifestBytes) $paths.Manifest ($paths.Manifest + '.previous')
    [IO.File]::WriteAllText((Join-Path $txn 'committed'), '')
    [IO.Directory]::Delete($txn, $true)
  } catch {
    Write-Failure $step $_.Exception.Message
    $exitRecord = 'rolled-back yes'
    try {
      if (($null -ne $txn) -and [IO.File]::Exists((Join-Path $txn 'state.json'))) { Undo-TrustedRootsJavaTransaction $txn $paths }
      if (($null -ne $txn) -and [IO.Directory]::Exists($txn)) { [IO.Directory]::Delete($txn, $true) }
    } catch { $exitRecord = 'rolled-back failed' }
  }
  Write-Record $exitRecord
  Write-TrustedRootsJavaObservation $payload
} finally { $mutex.ReleaseMutex(); $mutex.Dispose() }
