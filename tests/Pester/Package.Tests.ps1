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
