BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    $examples = Join-Path (Split-Path (Split-Path $env:DELAYED_MODULE)) 'examples/Delayed.Examples.dll'
}
AfterAll { Stop-TestRedis $redis }

Describe '.NET handler assemblies' {
    BeforeEach {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1'
        $log = Join-Path $TestDrive "$([Guid]::NewGuid()).log"
        Get-DelayedHandler | ForEach-Object { Unregister-DelayedHandler $_.Name }
    }

    It 'registers only the methods marked [DelayedHandler], by attribute name or Namespace.Type.Method' {
        $handlers = Register-DelayedHandler -AssemblyPath $examples -PassThru
        $handlers.Name | Sort-Object | Should -Be @('Delayed.Examples.Maintenance.Append', 'example:add', 'example:disk', 'example:fail', 'example:hang', 'example:noop', 'example:patch')
        (Get-DelayedHandler example:patch).Kind | Should -Be 'DotNet'
        (Get-DelayedHandler example:patch).Definition | Should -BeLike '*PatchAsync(Server server, String log, Boolean reboot, CancellationToken cancellationToken) in Delayed.Examples.dll'
    }

    It 'runs .NET handlers with converted arguments: plain objects from a map or an array, defaults, named parameters' {
        Register-DelayedHandler -AssemblyPath $examples
        Add-DelayedTask $queue Delayed.Examples.Maintenance.Append $log, 'first line'
        Add-DelayedTask $queue example:patch @{ name = 'web01'; port = 8080; tags = @('a', 'b') }, $log -Parameter @{ Reboot = $true }
        Add-DelayedTask $queue example:patch -ArgumentList @(@('web02', 22), $log)
        Add-DelayedTask $queue example:patch -ArgumentList @(@('web03', 443), $log) -Format Go
        $summary = Start-DelayedWorker $queue -StopWhenEmpty
        $summary.Succeeded | Should -Be 4
        Get-Content $log | Should -Be @('first line', 'patched web01:8080 [a,b] reboot=True', 'patched web02:22 [] reboot=False', 'patched web03:443 [] reboot=False')
    }

    It 'runs handlers of -AssemblyPath without registering them' {
        Add-DelayedTask $queue Delayed.Examples.Maintenance.Append $log, 'via -AssemblyPath'
        (Start-DelayedWorker $queue -AssemblyPath $examples -StopWhenEmpty).Succeeded | Should -Be 1
        Get-Content $log | Should -Be 'via -AssemblyPath'
    }

    It 'never calls a public method that is not marked' {
        Add-DelayedTask $queue Delayed.Examples.Maintenance.NotAHandler $log
        $failures = $null
        $warnings = $null
        $summary = Start-DelayedWorker $queue -AssemblyPath $examples -StopWhenEmpty -WarningVariable warnings -WarningAction SilentlyContinue
        $summary.Returned | Should -Be 1
        "$warnings" | Should -BeLike '*No handler is registered for task*NotAHandler*'
        Test-Path $log | Should -BeFalse
    }

    It 'reports a mismatch as a bad call naming the parameter, what was sent and what was expected, never retried' {
        Add-DelayedTask $queue example:patch 'not a server', $log -Retry 3
        $failures = $null
        $summary = Start-DelayedWorker $queue -AssemblyPath $examples -StopWhenEmpty -ErrorVariable failures -ErrorAction SilentlyContinue
        $summary.Failed | Should -Be 1
        $summary.Retried | Should -Be 0
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'TaskBindingFailed*'
        $failures[0].ToString() | Should -BeLike "*parameter 'server'*expects a map or an array of the fields of Server*String `"not a server`"*"
    }

    It 'retries a failing .NET handler while the budget lasts' {
        Add-DelayedTask $queue example:fail $log -Retry 2
        $summary = Start-DelayedWorker $queue -AssemblyPath $examples -StopWhenEmpty -RetryDelay 0 -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $summary.Retried, $summary.Failed | Should -Be @(2, 1)
        @(Get-Content $log).Count | Should -Be 3
    }

    It 'refuses an assembly path that does not exist' {
        { Register-DelayedHandler -AssemblyPath ./no-such.dll -ErrorAction Stop } | Should -Throw -ExpectedMessage '*does not exist*'
        { Start-DelayedWorker $queue -AssemblyPath ./no-such.dll -StopWhenEmpty -ErrorAction Stop } | Should -Throw -ExpectedMessage '*does not exist*'
    }
}
