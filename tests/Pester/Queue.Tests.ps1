BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
}
AfterAll { Stop-TestRedis $redis }

Describe 'New-DelayedQueue' {
    It 'returns a Delayed.Queue that names its keys and its server' {
        $queue = New-DelayedQueue jobs -Redis $redis.Configuration
        $queue.PSObject.TypeNames[0] | Should -Be 'Delayed.Queue'
        $queue.Name | Should -Be 'jobs'
        $queue.TaskKey, $queue.TokenKey, $queue.ProcessingKey | Should -Be @('jobs', 'jobs_noti', 'jobs_processing')
        $queue.Redis | Should -Be $redis.Configuration
        $queue.DequeueTimeout | Should -Be ([TimeSpan]::FromSeconds(1))
        $queue.KeepAliveTimeout | Should -Be ([TimeSpan]::FromSeconds(60))
    }

    It 'never shows the password, not even when the server is unreachable' {
        $secured = Start-LocalRedis -Arguments '--requirepass', 'hunter2secret'
        try {
            $queue = New-DelayedQueue jobs -Redis "$($secured.Configuration),password=hunter2secret"
            Add-DelayedTask $queue m:f # the password works
            $shown = ($queue | Format-List * -Force | Out-String) + ($queue | Format-Table | Out-String) + "$queue" +
                ($queue | ConvertTo-Json -Depth 4) + (Get-DelayedQueue $queue | Format-List * | Out-String)
            $shown | Should -Match ([regex]::Escape($secured.Configuration))
            $shown | Should -Not -Match 'hunter2secret'
        } finally { Stop-LocalRedis $secured }
        $failure = $null
        try { New-DelayedQueue jobs -Redis '127.0.0.1:1,password=hunter2secret,connectTimeout=500' -ErrorAction Stop } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $failure.FullyQualifiedErrorId | Should -BeLike 'RedisUnreachable*'
        $failure.ToString() | Should -BeLike '*127.0.0.1:1*'
        ($failure | Format-List * -Force | Out-String) + $failure.Exception.ToString() | Should -Not -Match 'hunter2secret'
    }

    It 'says in a few words that Redis does not answer once it is gone, the client''s counters kept in the InnerException' {
        $server = Start-LocalRedis
        $queue = New-DelayedQueue jobs -Redis "$($server.Configuration),syncTimeout=1000,asyncTimeout=1000,connectTimeout=500"
        Add-DelayedTask $queue m:f
        Stop-LocalRedis $server
        $failures = @(
            try { Get-DelayedQueue $queue -ErrorAction Stop } catch { $_ }
            # Add-DelayedTask also says what became of the tasks (AddDelayedTask.Tests.ps1).
            try { Add-DelayedTask $queue m:f -ErrorAction Stop } catch { $_ }
        )
        $failures[0].Exception.Message | Should -BeLike 'Redis did not answer: *Check that the server is up*'
        $failures[1].Exception.Message | Should -BeLike 'Redis did not answer, *The client said: *'
        foreach ($failure in $failures) {
            $failure.FullyQualifiedErrorId | Should -BeLike 'RedisUnavailable*'
            $failure.Exception.Message.Length | Should -BeLessThan 400
            $failure.Exception.Message | Should -Not -Match 'mgr: |IOCP|WORKER: '
            $failure.Exception.InnerException.Message | Should -Match 'mgr: '
        }
    }

    It 'says that a server refusing for a while (BUSY) refused, ran nothing, and serves again by itself' {
        $own = Start-LocalRedis -Arguments '--busy-reply-threshold', '100'
        $busy = $null
        try {
            $queue = New-DelayedQueue jobs -Redis $own.Configuration
            Add-DelayedTask $queue m:f
            $busy = Start-Process redis-cli -ArgumentList '-p', $own.Port, 'EVAL', '"while true do end"', '0' -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'busy.out')
            Wait-Until { (& redis-cli -p $own.Port PING) -like 'BUSY*' } 'the script to hold the server'
            $failures = @(
                try { Get-DelayedQueue $queue -ErrorAction Stop } catch { $_ }
                try { Suspend-DelayedQueue $queue -ErrorAction Stop } catch { $_ }
                try { Clear-DelayedQueue $queue -Confirm:$false -ErrorAction Stop } catch { $_ }
            )
            $failures.Count | Should -Be 3
            foreach ($failure in $failures) {
                $failure.FullyQualifiedErrorId | Should -BeLike 'RedisRefused,*' -Because $failure.Exception.Message
                $failure.CategoryInfo.Category | Should -Be ResourceBusy
                $failure.Exception.Message | Should -BeLike 'Redis refused for now: BUSY Redis is busy running a script*The refused command did not run*Run this again once Redis serves again*SCRIPT KILL*'
            }
            & redis-cli -p $own.Port SCRIPT KILL | Out-Null
            Wait-Until { (& redis-cli -p $own.Port PING) -eq 'PONG' } 'the server to serve again'
            $status = Get-DelayedQueue $queue
            $status.Length | Should -Be 1 -Because 'the refused Clear-DelayedQueue removed nothing'
            $status.Paused | Should -BeFalse -Because 'the refused Suspend-DelayedQueue paused nothing'
        } finally {
            if ($busy -and -not $busy.HasExited) { & redis-cli -p $own.Port SCRIPT KILL | Out-Null; $busy.Kill() }
            Stop-LocalRedis $own
        }
    }

    It 'says that a read-only replica refused to write, and where to write instead; it still serves the readers' {
        $redis.Db.Execute('CONFIG', [object[]]@('SET', 'repl-diskless-sync-delay', '0')) | Out-Null # the replica's first sync at once
        $replica = Start-LocalRedis -Arguments '--replicaof', '127.0.0.1', $redis.Port
        try {
            Wait-Until { (& redis-cli -p $replica.Port INFO replication) -match 'master_link_status:up' } 'the replica to follow the primary'
            $name = New-QueueName
            $redis.Db.ListRightPush($name, 'x') | Out-Null
            $queue = New-DelayedQueue $name -Redis $replica.Configuration
            Wait-Until { (Get-DelayedQueue $queue).Length -eq 1 } 'the replica to hold the primary''s list'
            $failures = @(
                try { Add-DelayedTask $queue Restart-Site web01 -ErrorAction Stop } catch { $_ }
                try { Add-DelayedTask $queue Restart-Site web02 -AsJob -ErrorAction Stop } catch { $_ }
                try { Suspend-DelayedQueue $queue -ErrorAction Stop } catch { $_ }
            )
            $failures.Count | Should -Be 3
            $failures[0..1].FullyQualifiedErrorId | Should -BeLike 'RedisReadOnlyNotEnqueued,*'
            $failures[0..1].Exception.Message | Should -BeLike "Redis refused task 'Restart-Site', and it was not enqueued: the server is a read-only replica (READONLY *). *Give -Redis the primary's address, or the sentinels' with -SentinelService*"
            $failures[2].FullyQualifiedErrorId | Should -BeLike 'RedisReadOnlyReplica,*'
            $failures[2].Exception.Message | Should -BeLike "Redis refused to write: the server is a read-only replica (READONLY *). The refused command did not run. Give -Redis the primary's address*"
            $redis.Db.ListLength($name) | Should -Be 1 -Because 'nothing was written'
            (Get-DelayedQueue $queue).Paused | Should -BeFalse
        } finally {
            Get-Job | Remove-Job -Force
            Stop-LocalRedis $replica
        }
    }

    It 'says that a full Redis (maxmemory, noeviction) refused to store more, and how to make room' {
        $full = Start-LocalRedis -Arguments '--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'
        try {
            $queue = New-DelayedQueue (New-QueueName) -Redis $full.Configuration
            # A script that has written once writes on past the limit: the server is then full.
            & redis-cli -p $full.Port EVAL "for i = 1, 30000 do redis.call('SET', 'fill' .. i, string.rep('x', 100)) end" 0 | Out-Null
            $failures = @(
                try { Add-DelayedTask $queue Restart-Site web01 -ErrorAction Stop } catch { $_ }
                try { Add-DelayedTask $queue Restart-Site web02 -AsJob -ErrorAction Stop } catch { $_ }
                try { Suspend-DelayedQueue $queue -ErrorAction Stop } catch { $_ }
            )
            $failures.Count | Should -Be 3
            foreach ($failure in $failures) {
                $failure.FullyQualifiedErrorId | Should -BeLike 'RedisOutOfMemory,*' -Because $failure.Exception.Message
                $failure.Exception.Message | Should -BeLike "Redis is out of memory and refuses to store more (OOM command not allowed*). The refused command did not run. Make room*or raise maxmemory. Keep maxmemory-policy noeviction*"
            }
            & redis-cli -p $full.Port EXISTS $queue.Name "$($queue.Name)_tracked" "$($queue.Name)_paused" | Should -Be 0
        } finally { Stop-LocalRedis $full }
    }

    It 'takes redis:// URLs with user, password (percent-encoded, commas too), port and database, and never shows the password' {
        $secured = Start-LocalRedis -Arguments '--requirepass', 'hunter2secret'
        try {
            $admin = [StackExchange.Redis.ConnectionMultiplexer]::Connect("$($secured.Configuration),password=hunter2secret")
            $admin.GetDatabase().Execute('ACL', 'SETUSER', 'ops', 'on', '>hunter2,se@cret', '~*', '+@all') | Out-Null
            $url = "redis://ops:hunter2%2Cse%40cret@$($secured.Configuration)/3"
            $queue = New-DelayedQueue jobs -Redis $url
            Add-DelayedTask $queue m:f
            $admin.GetDatabase(3).ListLength('jobs') | Should -Be 1 -Because 'the URL names database 3'
            $queue.Redis | Should -Be "$($secured.Configuration)/db3"
            $shown = ($queue | Format-List * -Force | Out-String) + "$queue" + ($queue | ConvertTo-Json -Depth 4)
            $shown | Should -Not -Match 'hunter2'
            $refused = $null
            try { New-DelayedQueue jobs -Redis "redis://ops:zq9badpw%2Cqq7@$($secured.Configuration)" -ErrorAction Stop } catch { $refused = $_ }
            "$refused" | Should -BeLike '*refused the user name or password*'
            ($refused | Format-List * -Force | Out-String) + $refused.Exception.ToString() | Should -Not -Match 'zq9badpw|qq7'
            $refused = $null
            try { New-DelayedQueue jobs -Redis "$($secured.Configuration),password=nothunter2" -ErrorAction Stop } catch { $refused = $_ }
            "$refused" | Should -BeLike '*refused the user name or password*'
            $admin.Dispose()
        } finally { Stop-LocalRedis $secured }
        $bad = $null
        try { New-DelayedQueue jobs -Redis 'redis://u:hunter2secret@host:notaport' -ErrorAction Stop } catch { $bad = $_ }
        "$bad" | Should -BeLike '*port*1 to 65535*'
        ($bad | Format-List * -Force | Out-String) | Should -Not -Match 'hunter2secret'
        $comma = $null
        try { New-DelayedQueue jobs -Redis '127.0.0.1:1,password=hunter2,secret' -ErrorAction Stop } catch { $comma = $_ }
        "$comma" | Should -BeLike '*server after password=*percent-encoded*'
        ($comma | Format-List * -Force | Out-String) + $comma.Exception.ToString() | Should -Not -Match 'hunter2|secret'
    }

    It 'uses $env:DELAYED_REDIS by default' {
        $env:DELAYED_REDIS = $redis.Configuration
        try { (New-DelayedQueue jobs).Redis | Should -Be $redis.Configuration } finally { Remove-Item Env:DELAYED_REDIS }
    }

    It 'says what is wrong with a configuration string, in PowerShell terms' {
        $failure = $null
        try { New-DelayedQueue jobs -Redis 'password=hunter2secret' -ErrorAction Stop } catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -BeLike 'InvalidArgument*'
        "$failure" | Should -BeLike '*names no server; give host:port*'
        "$failure" | Should -Not -Match '\(Parameter '
        ($failure | Format-List * -Force | Out-String) | Should -Not -Match 'hunter2secret'
    }

    It 'tells, when a bare queue name cannot reach its server, which server that is and how to choose another' {
        $env:DELAYED_REDIS = '127.0.0.1:1,password=hunter2secret,connectTimeout=500'
        try {
            $failure = $null
            try { Add-DelayedTask jobs m:f -ErrorAction Stop } catch { $failure = $_ }
            "$failure" | Should -BeLike "*queue name 'jobs' stands for a queue on the default Redis server, 127.0.0.1:1 (from `$env:DELAYED_REDIS)*"
            "$failure" | Should -BeLike '*Cannot connect to Redis at 127.0.0.1:1*New-DelayedQueue jobs -Redis host:port*'
            ($failure | Format-List * -Force | Out-String) + $failure.Exception.ToString() | Should -Not -Match 'hunter2secret'
        } finally { Remove-Item Env:DELAYED_REDIS }
    }

    It 'shares one connection per configuration' {
        $a = New-DelayedQueue a -Redis $redis.Configuration
        $clients = $redis.Db.Execute('CLIENT', 'LIST').ToString() -split "`n" | Where-Object { $_ }
        1..5 | ForEach-Object { New-DelayedQueue "b$_" -Redis $redis.Configuration } | Out-Null
        ($redis.Db.Execute('CLIENT', 'LIST').ToString() -split "`n" | Where-Object { $_ }).Count | Should -Be $clients.Count
    }

    It 'reconnects by itself after the server restarts' {
        $own = Start-LocalRedis
        try {
            $queue = New-DelayedQueue restart -Redis $own.Configuration
            Add-DelayedTask $queue m:f
            Stop-LocalRedis $own
            $own = Start-LocalRedis -Port $own.Port
            # The connection recovers by itself: an enqueue goes through once it has.
            Wait-Until { try { Add-DelayedTask $queue m:f -ErrorAction Stop; $true } catch { Start-Sleep -Milliseconds 200; $false } } 'an enqueue to go through on the restarted server'
            $probe = [StackExchange.Redis.ConnectionMultiplexer]::Connect($own.Configuration)
            try { $probe.GetDatabase().ListLength('restart') | Should -Be 1 } finally { $probe.Dispose() }
        } finally { Stop-LocalRedis $own }
    }

    It 'refuses a zero dequeue timeout' {
        { New-DelayedQueue jobs -Redis $redis.Configuration -DequeueTimeout 0 -ErrorAction Stop } | Should -Throw -ExpectedMessage '*dequeue timeout must be positive*'
    }

    It 'has a table view' {
        (New-DelayedQueue jobs -Redis $redis.Configuration | Format-Table | Out-String) | Should -Match 'Name\s+Redis\s+TokenKey\s+ProcessingKey'
    }
}
