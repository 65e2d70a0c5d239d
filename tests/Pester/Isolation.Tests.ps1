# Another module's version of a dependency and ours live side by side. This file does not import Delayed
# itself: each case runs in a fresh pwsh, where the other version must be loaded first.
BeforeAll {
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    $cache = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $otherRedisClient = Join-Path $cache 'stackexchange.redis/1.2.6/lib/netstandard1.5/StackExchange.Redis.dll'
}
AfterAll { Stop-TestRedis $redis }

Describe 'Dependency isolation' {
    It 'keeps working, and keeps the other version working, when another StackExchange.Redis is loaded first' {
        Test-Path $otherRedisClient | Should -BeTrue -Because 'tools/tools.proj restores StackExchange.Redis 1.2.6 for this test'
        $process = Start-PwshProcess -Script @"
Add-Type -Path '$otherRedisClient'
`$other = [StackExchange.Redis.ConnectionMultiplexer]::Connect('$($redis.Configuration)')
`$other.GetDatabase().StringSet('other-before', '1') | Out-Null
`$queue = New-DelayedQueue isolation -Redis '$($redis.Configuration)' -DequeueTimeout '00:00:00.1'
Add-DelayedTask `$queue t 1
'succeeded=' + (Start-DelayedWorker `$queue -StopWhenEmpty -Handler @{ t = { param(`$n) } }).Succeeded
'other-after=' + `$other.GetDatabase().StringSet('other-after', '1')
foreach (`$assembly in [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'StackExchange.Redis' }) {
    'loaded=' + `$assembly.GetName().Version + '@' + [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$assembly).Name
}
"@
        $output = $process.StandardOutput.ReadToEnd()
        $process.WaitForExit()
        $lines = $output -split "`r?`n" | Where-Object { $_ -match '=' }
        $lines | Should -Contain 'succeeded=1'
        $lines | Should -Contain 'other-after=True'
        $lines | Should -Contain 'loaded=1.2.6.0@Default'
        $lines | Should -Contain 'loaded=2.0.0.0@Delayed'
        $redis.Db.KeyExists('other-before') | Should -BeTrue
    }

    It 'keeps the engine out of the default load context' {
        $process = Start-PwshProcess -Script @"
`$queue = New-DelayedQueue x -Redis '$($redis.Configuration)'
Register-DelayedSchedule `$queue -Name isolation -Cron '@daily' -TimeZone UTC -TaskName t | Out-Null # loads Cronos
`$prom = Join-Path ([IO.Path]::GetTempPath()) "isolation-`$PID.prom"
Export-DelayedMetrics `$queue -Path `$prom; Remove-Item `$prom # loads prometheus-net
`$listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); `$listener.Start(); `$port = `$listener.LocalEndpoint.Port; `$listener.Stop()
`$sweeper = Start-DelayedSweeper `$queue -MetricsPort `$port -AsJob # the endpoint, its server and the meter bridge
'scraped=' + ((Invoke-WebRequest "http://127.0.0.1:`$port/metrics" -UseBasicParsing).Content -match 'delayed_queue_length')
`$sweeper | Stop-Job
`$lib = Join-Path (Get-Module Delayed).ModuleBase 'lib'
foreach (`$assembly in [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { -not `$_.IsDynamic -and `$_.Location -like "`$lib*" }) {
    'fromlib=' + `$assembly.GetName().Name + '@' + [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$assembly).Name
}
foreach (`$assembly in [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -in 'Delayed.Core', 'MessagePack', 'StackExchange.Redis', 'Cronos', 'Prometheus.NetStandard', 'Delayed.PowerShell' }) {
    'loaded=' + `$assembly.GetName().Name + '@' + [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$assembly).Name
}
"@
        $output = $process.StandardOutput.ReadToEnd()
        $process.WaitForExit()
        $lines = $output -split "`r?`n" | Where-Object { $_ -like 'loaded=*' } | Sort-Object
        $lines | Should -Contain 'loaded=Delayed.Core@Delayed'
        $lines | Should -Contain 'loaded=StackExchange.Redis@Delayed'
        $lines | Should -Contain 'loaded=Cronos@Delayed'
        $lines | Should -Contain 'loaded=Prometheus.NetStandard@Delayed'
        $output -split "`r?`n" | Should -Contain 'scraped=True'
        $fromLib = @($output -split "`r?`n" | Where-Object { $_ -like 'fromlib=*' })
        $fromLib | Should -Contain 'fromlib=Prometheus.NetStandard@Delayed'
        $fromLib | Where-Object { $_ -notlike '*@Delayed' } | Should -BeNullOrEmpty -Because 'whatever the module loads from lib/ loads in its own context'
        $lines | Should -Contain 'loaded=Delayed.PowerShell@Default'
    }

    # Windows PowerShell 5.1 cannot run here; its resolver's rules can: answer only from the module's folders, and
    # never with an older version than the one asked for (another module's request is not ours to break).
    It 'resolves for Windows PowerShell 5.1 only from the module''s folders, never with an older version' {
        $process = Start-PwshProcess -Script @"
`$resolver = [Delayed.PowerShell.Hosting.ModuleInitializer].GetNestedType('FrameworkResolver', [Reflection.BindingFlags]::NonPublic)
`$base = (Get-Module Delayed).ModuleBase
`$flags = [Reflection.BindingFlags]'NonPublic,Static'
`$resolver.GetField('_moduleDirectory', `$flags).SetValue(`$null, `$base)
`$resolver.GetField('_lib', `$flags).SetValue(`$null, (Join-Path `$base 'lib'))
`$resolve = `$resolver.GetMethod('Resolve', `$flags)
`$shipped = [Reflection.AssemblyName]::GetAssemblyName((Join-Path `$base 'lib/MessagePack.dll')).Version
function Resolve-Name(`$name) {
    `$assembly = `$resolve.Invoke(`$null, @(`$null, [ResolveEventArgs]::new(`$name)))
    if (`$assembly) { `$assembly.Location.Substring(`$base.Length + 1).Replace('\', '/') } else { 'none' }
}
'same=' + (Resolve-Name "MessagePack, Version=`$shipped")
'older=' + (Resolve-Name 'MessagePack, Version=1.0.0.0')
'newer=' + (Resolve-Name "MessagePack, Version=`$(`$shipped.Major + 1).0.0.0")
'unversioned=' + (Resolve-Name 'MessagePack')
'foreign=' + (Resolve-Name 'Not.In.This.Module, Version=1.0.0.0')
"@
        $output = $process.StandardOutput.ReadToEnd()
        $errors = $process.StandardError.ReadToEnd()
        $process.WaitForExit()
        $lines = $output -split "`r?`n" | Where-Object { $_ -match '=' }
        $lines | Should -Be @('same=lib/MessagePack.dll', 'older=lib/MessagePack.dll', 'newer=none', 'unversioned=lib/MessagePack.dll', 'foreign=none') -Because $errors
    }
}
