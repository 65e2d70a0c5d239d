BeforeDiscovery {
    Import-Module $env:DELAYED_MODULE
    $commands = Get-Command -Module Delayed | ForEach-Object { @{ Name = $_.Name } }
}

Describe 'Help of <Name>' -ForEach $commands {
    BeforeAll {
        Import-Module $env:DELAYED_MODULE
        $help = Get-Help $Name -Full
        $common = [Management.Automation.Cmdlet]::CommonParameters + @('UseTransaction')
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
    It 'has related links: about_Delayed and related cmdlets' {
        $links = @($help.relatedLinks.navigationLink.linkText)
        $links | Should -Contain 'about_Delayed'
        $links.Count | Should -BeGreaterThan 1
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
    BeforeAll {
        $manifest = Test-ModuleManifest $env:DELAYED_MODULE
        $data = Import-PowerShellDataFile $env:DELAYED_MODULE
    }

    It 'passes Test-ModuleManifest and names the module' {
        $manifest.Name | Should -Be 'Delayed'
        $manifest.Version | Should -Be ([version]'0.1.0')
        $manifest.Guid | Should -Not -Be ([guid]::Empty)
        $manifest.Author | Should -Not -BeNullOrEmpty
        $manifest.Description | Should -Match 'Redis task queue'
    }

    It 'targets Windows PowerShell 5.1 and PowerShell 7' {
        $manifest.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        $manifest.PowerShellVersion | Should -Be ([version]'5.1')
    }

    It 'exports every cmdlet explicitly, and nothing else' {
        $data.CmdletsToExport | Should -Not -Contain '*'
        $data.CmdletsToExport | Sort-Object | Should -Be ((Get-Command -Module Delayed -CommandType Cmdlet).Name | Sort-Object)
        $data.FunctionsToExport.Count | Should -Be 0
        $data.VariablesToExport.Count | Should -Be 0
        $data.AliasesToExport.Count | Should -Be 0
        $data.FormatsToProcess | Should -Be @('Delayed.Format.ps1xml')
    }

    It 'carries the gallery metadata' {
        $data.PrivateData.PSData.Tags | Sort-Object | Should -Be (@('PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS', 'Redis', 'Queue', 'Jobs') | Sort-Object)
        $data.PrivateData.PSData.ReleaseNotes | Should -Not -BeNullOrEmpty
        Test-Path (Join-Path (Split-Path $env:DELAYED_MODULE) 'LICENSE') | Should -BeTrue
    }
}

Describe 'about_Delayed' {
    It 'explains the concepts' {
        Import-Module $env:DELAYED_MODULE
        $text = Get-Help about_Delayed | Out-String
        foreach ($concept in 'at least once', 'idempotent', 'SWEEPING', 'PYTHON AND GO', 'SECURITY', 'STUCK TASKS') { $text | Should -Match $concept }
    }
}

Describe 'Output formatting' {
    It 'shows every type a cmdlet writes as a table whose headers are the names of its properties' {
        Import-Module $env:DELAYED_MODULE
        $types = Get-Command -Module Delayed | ForEach-Object { $_.OutputType.Type } |
            Where-Object { $_ -and $_.Namespace -eq 'Delayed' -and -not $_.IsEnum } | Sort-Object FullName -Unique
        $types.Count | Should -BeGreaterThan 10 -Because 'the cmdlets declare what they write'
        foreach ($type in $types) {
            $table = (Get-FormatData -TypeName $type.FullName).FormatViewDefinition.Control | Where-Object { $_ -is [Management.Automation.TableControl] }
            $table | Should -Not -BeNullOrEmpty -Because "$($type.Name) would otherwise be shown as a list of all its properties"
            # Properties, and the aliases Delayed.Types.ps1xml gives them.
            $names = @($type.GetProperties().Name) + @((Get-TypeData -TypeName $type.FullName).Members.Keys)
            foreach ($header in $table.Headers.Label) { $names | Should -Contain $header -Because "$($type.Name)'s column '$header' should name a property to select or sort by" }
        }
    }
}
