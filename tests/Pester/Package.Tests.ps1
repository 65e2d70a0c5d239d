# The path a user takes: a package in a repository, Install-PSResource or Install-Module, Import-Module by
# name in a fresh pwsh, a task end to end. Everything happens under a HOME of its own, so nothing is
# installed for the machine's real user.
BeforeAll {
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    $home_ = Join-Path ([IO.Path]::GetTempPath()) "delayed-home-$([Guid]::NewGuid().ToString('N'))"
    $repository = Join-Path $home_ 'repository'
    # .NET reports a per-user folder that does not exist yet as empty: create them, or tools fall back to the current directory.
    foreach ($folder in $repository, "$home_/.local/share/powershell/Modules", "$home_/.config", "$home_/.cache") { New-Item $folder -ItemType Directory -Force | Out-Null }
    $isolated = @{
        HOME = $home_; XDG_DATA_HOME = "$home_/.local/share"; XDG_CONFIG_HOME = "$home_/.config"; XDG_CACHE_HOME = "$home_/.cache"
        PSModulePath = "$home_/.local/share/powershell/Modules"
    }
    function Invoke-Isolated([string] $Script) {
        $process = Start-PwshProcess -WithoutModule -Environment $isolated -Script "`$ErrorActionPreference = 'Stop'; `$ProgressPreference = 'SilentlyContinue'; $Script"
        $output = $process.StandardOutput.ReadToEnd()
        $errors = $process.StandardError.ReadToEnd()
        $process.WaitForExit()
        [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $output; Errors = $errors }
    }
    $endToEnd = @"
`$module = Import-Module Delayed -PassThru
'path=' + `$module.ModuleBase
'acl=' + (Test-Path (Join-Path `$module.ModuleBase 'examples/delayed.acl')) # about_Delayed points to it
`$queue = New-DelayedQueue installed -Redis '$($redis.Configuration)' -DequeueTimeout '00:00:00.1'
Add-DelayedTask `$queue greet 'installed'
'succeeded=' + (Start-DelayedWorker `$queue -StopWhenEmpty -Handler @{ greet = { param(`$n) } }).Succeeded
"@
    # Publish the built module, as ./build.ps1 package does.
    $publish = Invoke-Isolated @"
Register-PSResourceRepository -Name DelayedTest -Uri '$repository' -Trusted
Publish-PSResource -Path '$(Split-Path $env:DELAYED_MODULE)' -Repository DelayedTest -SkipDependenciesCheck
"@
}
AfterAll {
    Stop-TestRedis $redis
    Remove-Item $home_ -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'The published package' {
    It 'is published as a .nupkg' {
        $publish.ExitCode | Should -Be 0 -Because $publish.Errors
        @(Get-ChildItem $repository -Filter 'Delayed.*.nupkg').Count | Should -Be 1
    }

    It 'installs with Install-PSResource, imports by name in a fresh pwsh and runs a task' {
        $install = Invoke-Isolated "Install-PSResource Delayed -Repository DelayedTest -Scope CurrentUser -TrustRepository"
        $install.ExitCode | Should -Be 0 -Because $install.Errors
        $run = Invoke-Isolated $endToEnd
        $run.Output | Should -Match "path=$([regex]::Escape($home_)).*Delayed"
        $run.Output | Should -Match 'succeeded=1'
        $run.Output | Should -Match 'acl=True'
        Invoke-Isolated 'Uninstall-PSResource Delayed -Scope CurrentUser' | Out-Null
    }

    It 'installs with Install-Module, imports by name in a fresh pwsh and runs a task' {
        $install = Invoke-Isolated "Register-PSRepository -Name DelayedTest2 -SourceLocation '$repository' -InstallationPolicy Trusted; Install-Module Delayed -Repository DelayedTest2 -Scope CurrentUser -Force -WarningAction SilentlyContinue"
        $install.ExitCode | Should -Be 0 -Because $install.Errors
        $run = Invoke-Isolated $endToEnd
        $run.Output | Should -Match "path=$([regex]::Escape($home_)).*Delayed"
        $run.Output | Should -Match 'succeeded=1'
        $run.Output | Should -Match 'acl=True'
    }
}

# The project has no public home yet: the publisher sets PackageProjectUrl, and the release's manifest and package then
# carry ProjectUri and LicenseUri. What build.ps1 does with it, checked without building again.
Describe 'A release with a public home' {
    BeforeAll {
        Import-Module "$PSScriptRoot/../../tools/ModuleManifest.psm1" -Force
        $built = Split-Path $env:DELAYED_MODULE
        $release = Join-Path $home_ 'release/Delayed'
        New-Item (Split-Path $release) -ItemType Directory -Force | Out-Null
        Copy-Item $built $release -Recurse
        $version = (Import-PowerShellDataFile $env:DELAYED_MODULE).ModuleVersion
        $stamped = ConvertTo-ReleaseManifest -Template (Get-Content (Join-Path $PSScriptRoot '../../Delayed.psd1') -Raw) -Version $version -ProjectUrl 'https://example.org/delayed/'
        Set-Content (Join-Path $release 'Delayed.psd1') $stamped -NoNewline
    }

    It 'stamps ProjectUri and LicenseUri into a manifest that Test-ModuleManifest passes' {
        $manifest = Test-ModuleManifest (Join-Path $release 'Delayed.psd1')
        $manifest.ProjectUri | Should -Be 'https://example.org/delayed'
        $manifest.LicenseUri | Should -Be 'https://example.org/delayed/blob/main/LICENSE'
        $manifest.Version | Should -Be $version
        $manifest.Tags | Should -Contain 'Redis'
    }

    It 'publishes them in the package' {
        $repository2 = Join-Path $home_ 'repository-release'
        New-Item $repository2 -ItemType Directory -Force | Out-Null
        $publish2 = Invoke-Isolated @"
Register-PSResourceRepository -Name DelayedRelease -Uri '$repository2' -Trusted
Publish-PSResource -Path '$release' -Repository DelayedRelease -SkipDependenciesCheck
"@
        $publish2.ExitCode | Should -Be 0 -Because $publish2.Errors
        $package = Get-ChildItem $repository2 -Filter 'Delayed.*.nupkg' | Select-Object -First 1
        $zip = [IO.Compression.ZipFile]::OpenRead($package.FullName)
        try {
            $entry = $zip.Entries | Where-Object Name -eq 'Delayed.nuspec'
            $reader = [IO.StreamReader]::new($entry.Open())
            $nuspec = [xml]$reader.ReadToEnd()
            $reader.Dispose()
        }
        finally { $zip.Dispose() }
        $nuspec.package.metadata.projectUrl | Should -Be 'https://example.org/delayed'
        $nuspec.package.metadata.licenseUrl | Should -Be 'https://example.org/delayed/blob/main/LICENSE'
    }

    It 'is left out while the project has no home, and an address that is not one is refused' {
        $plain = ConvertTo-ReleaseManifest -Template (Get-Content (Join-Path $PSScriptRoot '../../Delayed.psd1') -Raw) -Version '9.9.9'
        $plain | Should -Not -Match 'ProjectUri|LicenseUri'
        $plain | Should -Match "ModuleVersion\s*=\s*'9.9.9'"
        { ConvertTo-ReleaseManifest -Template 'Tags = @()' -Version '1.0.0' -ProjectUrl 'github.com/x/delayed' } | Should -Throw '*not an http(s) address*'
    }

    It 'takes the publisher''s PackageProjectUrl from the environment, as build.ps1 reads it' {
        $start = [Diagnostics.ProcessStartInfo]::new('dotnet')
        foreach ($a in 'msbuild', (Join-Path $PSScriptRoot '../../src/Delayed.PowerShell/Delayed.PowerShell.csproj'), '-getProperty:PackageProjectUrl', '-nologo') { $start.ArgumentList.Add($a) }
        $start.Environment['PackageProjectUrl'] = 'https://example.org/delayed'
        $start.RedirectStandardOutput = $true
        $process = [Diagnostics.Process]::Start($start)
        $value = $process.StandardOutput.ReadToEnd().Trim()
        $process.WaitForExit()
        $value | Should -Be 'https://example.org/delayed'
    }
}
