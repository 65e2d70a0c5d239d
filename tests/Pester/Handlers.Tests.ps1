BeforeAll {
    Import-Module $env:DELAYED_MODULE
}

Describe 'Register-DelayedHandler, Get-DelayedHandler, Unregister-DelayedHandler' {
    BeforeEach { Get-DelayedHandler | ForEach-Object { Unregister-DelayedHandler -Name $_.Name } }

    It 'registers a scriptblock under a name' {
        Register-DelayedHandler -Name 'app:greet' -ScriptBlock { param($Name) "hello $Name" }
        $handler = Get-DelayedHandler -Name 'app:greet'
        $handler.PSObject.TypeNames[0] | Should -Be 'Delayed.HandlerInfo'
        $handler.Kind | Should -Be 'ScriptBlock'
        $handler.Definition | Should -Be 'param($Name) "hello $Name"'
    }

    It 'registers a command under its own name by default' {
        function Invoke-TestHandler { param($X) }
        Register-DelayedHandler -Command Invoke-TestHandler
        (Get-DelayedHandler -Name Invoke-TestHandler).Command | Should -Be 'Invoke-TestHandler'
        Register-DelayedHandler -Name other -Command Invoke-TestHandler -PassThru | Select-Object -ExpandProperty Name | Should -Be 'other'
    }

    It 'refuses a command that does not exist' {
        { Register-DelayedHandler -Command No-SuchCommand -ErrorAction Stop } | Should -Throw -ExpectedMessage '*No-SuchCommand*not found*'
        Get-DelayedHandler | Should -BeNullOrEmpty
    }

    It 'replaces a handler registered again under the same name' {
        Register-DelayedHandler -Name n -ScriptBlock { 1 }
        Register-DelayedHandler -Name n -ScriptBlock { 2 }
        @(Get-DelayedHandler).Count | Should -Be 1
        (Get-DelayedHandler n).Definition | Should -Be '2'
    }

    It 'matches names exactly (case-sensitive), with wildcards on request (ignoring case)' {
        Register-DelayedHandler -Name 'Jobs.A' -ScriptBlock { }
        Register-DelayedHandler -Name 'Jobs.B' -ScriptBlock { }
        @(Get-DelayedHandler -Name 'Jobs.*').Count | Should -Be 2
        @(Get-DelayedHandler -Name 'jobs.*').Count | Should -Be 2
        Get-DelayedHandler -Name 'jobs.a' -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'unregisters, with -WhatIf first, and reports an unknown name' {
        Register-DelayedHandler -Name gone -ScriptBlock { }
        Unregister-DelayedHandler -Name gone -WhatIf
        Get-DelayedHandler gone | Should -Not -BeNullOrEmpty
        Get-DelayedHandler gone | Unregister-DelayedHandler
        Get-DelayedHandler gone -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        { Unregister-DelayedHandler -Name gone -ErrorAction Stop } | Should -Throw -ExpectedMessage "*'gone'*"
    }

    It 'keeps a registry per runspace' {
        Register-DelayedHandler -Name mine -ScriptBlock { }
        $ps = [powershell]::Create()
        try {
            $other = $ps.AddScript("Import-Module '$env:DELAYED_MODULE'; @(Get-DelayedHandler).Count").Invoke()
            $other[0] | Should -Be 0
        } finally { $ps.Dispose() }
    }
}
