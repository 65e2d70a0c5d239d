BeforeDiscovery {
    Import-Module $env:DELAYED_MODULE
    $commands = Get-Command -Module Delayed | ForEach-Object { @{ Name = $_.Name } }
}

Describe 'Help of <Name>' -ForEach $commands {
    BeforeAll {
        Import-Module $env:DELAYED_MODULE
        $help = Get-Help $Name -Full
        $common = [Management.Automation.Cmdlet]::CommonParameters + [Management.Automation.Cmdlet]::OptionalCommonParameters
        $parameters = (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common }
    }

    It 'has a synopsis' { $help.Synopsis | Should -Not -BeNullOrEmpty; $help.Synopsis | Should -Not -Match "^\s*$Name" }
    It 'has a description' { ($help.Description.Text -join '') | Should -Not -BeNullOrEmpty }
    It 'has at least one example with code and an explanation' {
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
        foreach ($example in $help.Examples.Example) {
            $example.Code | Should -Not -BeNullOrEmpty
            ($example.Remarks.Text -join '') | Should -Not -BeNullOrEmpty
        }
    }
    It 'describes every parameter' {
        foreach ($parameter in $parameters) {
            $entry = $help.Parameters.Parameter | Where-Object Name -eq $parameter
            $entry | Should -Not -BeNullOrEmpty -Because "-$parameter must be in the help"
            ($entry.Description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$parameter needs a description"
        }
    }
}

Describe 'Module manifest' {
    It 'exports every cmdlet explicitly and passes Test-ModuleManifest' {
        $manifest = Test-ModuleManifest $env:DELAYED_MODULE
        $manifest.ExportedCmdlets.Keys | Should -Contain 'Start-DelayedWorker'
        $manifest.ExportedCmdlets.Keys | Should -Not -Contain '*'
        (Import-PowerShellDataFile $env:DELAYED_MODULE).CmdletsToExport | Should -Not -Contain '*'
    }
}

Describe 'about_Delayed' {
    It 'explains the concepts' {
        Import-Module $env:DELAYED_MODULE
        $text = Get-Help about_Delayed | Out-String
        foreach ($concept in 'at least once', 'idempotent', 'SWEEPING', 'PYTHON AND GO', 'SECURITY', 'STUCK TASKS') { $text | Should -Match $concept }
    }
}
