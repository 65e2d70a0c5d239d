<#
.SYNOPSIS
    Generates the module's MAML help from the cmdlets' XML doc comments and their parameter metadata.
.DESCRIPTION
    PlatyPS is not available here, so the help is built from the source: a cmdlet class's <summary> is its
    synopsis, <remarks> its description (paragraphs split at blank lines), each <example> an example (<code>
    and <para>), and each parameter property's <summary> that parameter's description. Types, positions,
    pipeline input and mandatory flags come from the cmdlet metadata itself, so they cannot drift.
    Fails when a cmdlet lacks a synopsis, a description, an example, or a parameter description.
#>
param([Parameter(Mandatory)][string] $ModulePath)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3

$module = Import-Module (Join-Path $ModulePath 'Delayed.psd1') -PassThru
$docs = [xml](Get-Content (Join-Path $ModulePath 'Delayed.PowerShell.xml') -Raw)
$members = @{}
foreach ($member in $docs.doc.members.member) { $members[$member.name] = $member }
# -WhatIf and -Confirm are listed like the cmdlet's own parameters, with the usual descriptions; the rest are <CommonParameters>.
$common = [Collections.Generic.HashSet[string]]::new([string[]]([Management.Automation.Cmdlet]::CommonParameters + @('UseTransaction')))
$standard = @{
    WhatIf  = 'Shows what would happen if the cmdlet runs. The cmdlet is not run.'
    Confirm = 'Prompts you for confirmation before running the cmdlet.'
}
$problems = [Collections.Generic.List[string]]::new()

function Get-Text([Xml.XmlNode] $node) {
    if ($null -eq $node) { return '' }
    # <c>, <see cref> and <paramref> become plain text.
    $text = foreach ($child in $node.ChildNodes) {
        switch ($child.NodeType) {
            'Text' { $child.Value }
            'Element' {
                if ($child.LocalName -eq 'see') { ($child.GetAttribute('cref') -replace '^.:', '' -split '\.')[-1] }
                elseif ($child.LocalName -eq 'paramref') { $child.GetAttribute('name') }
                else { Get-Text $child }
            }
        }
    }
    return ($text -join '')
}

function Get-Paragraphs([string] $text) {
    $normalized = $text -replace "`r", ''
    return @(($normalized -split "\n\s*\n") | ForEach-Object { ($_ -replace '\s+', ' ').Trim() } | Where-Object { $_ })
}

function Esc([string] $value) { [Security.SecurityElement]::Escape($value) }

function Para([string[]] $paragraphs) { ($paragraphs | ForEach-Object { "<maml:para>$(Esc $_)</maml:para>" }) -join '' }

function Get-PipelineInput($metadata) {
    $kinds = @()
    foreach ($set in $metadata.ParameterSets.Values) {
        if ($set.ValueFromPipeline) { $kinds += 'ByValue' }
        if ($set.ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    }
    $kinds = @($kinds | Select-Object -Unique)
    if ($kinds.Count -eq 0) { return 'false' }
    return "true ($($kinds -join ', '))"
}

function Get-TypeName([type] $type) {
    if ($type -eq [Management.Automation.SwitchParameter]) { return 'SwitchParameter' }
    $nullable = [Nullable]::GetUnderlyingType($type)
    if ($nullable) { $type = $nullable }
    return $type.Name
}

$builder = [Text.StringBuilder]::new()
[void]$builder.AppendLine('<?xml version="1.0" encoding="utf-8"?>')
[void]$builder.AppendLine('<helpItems schema="maml" xmlns="http://msh">')
foreach ($command in Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name) {
    $type = $command.ImplementingType
    $doc = $members["T:$($type.FullName)"]
    $synopsis = if ($doc) { (Get-Paragraphs (Get-Text $doc.SelectSingleNode('summary'))) -join ' ' } else { '' }
    $description = @(if ($doc) { Get-Paragraphs (Get-Text $doc.SelectSingleNode('remarks')) })
    $examples = if ($doc) { @($doc.SelectNodes('example')) } else { @() }
    if (-not $synopsis) { $problems.Add("$($command.Name): no <summary>") }
    if ($description.Count -eq 0) { $problems.Add("$($command.Name): no <remarks>") }
    if ($examples.Count -eq 0) { $problems.Add("$($command.Name): no <example>") }

    $parameters = @($command.Parameters.Values | Where-Object { -not $common.Contains($_.Name) })
    [void]$builder.Append('<command:command xmlns:maml="http://schemas.microsoft.com/maml/2004/10" xmlns:command="http://schemas.microsoft.com/maml/dev/command/2004/10" xmlns:dev="http://schemas.microsoft.com/maml/dev/2004/10">')
    [void]$builder.Append("<command:details><command:name>$($command.Name)</command:name><command:verb>$($command.Verb)</command:verb><command:noun>$($command.Noun)</command:noun><maml:description>$(Para $synopsis)</maml:description></command:details>")
    [void]$builder.Append("<maml:description>$(Para $description)</maml:description>")

    [void]$builder.Append('<command:syntax>')
    foreach ($set in $command.ParameterSets) {
        [void]$builder.Append("<command:syntaxItem><maml:name>$($command.Name)</maml:name>")
        foreach ($p in $set.Parameters | Where-Object { -not $common.Contains($_.Name) }) {
            $position = if ($p.Position -ge 0) { $p.Position } else { 'named' }
            [void]$builder.Append("<command:parameter required=`"$($p.IsMandatory.ToString().ToLower())`" position=`"$position`"><maml:name>$($p.Name)</maml:name>")
            if ($p.ParameterType -ne [Management.Automation.SwitchParameter]) { [void]$builder.Append("<command:parameterValue required=`"true`">$(Esc (Get-TypeName $p.ParameterType))</command:parameterValue>") }
            [void]$builder.Append('</command:parameter>')
        }
        [void]$builder.Append('</command:syntaxItem>')
    }
    [void]$builder.Append('</command:syntax>')

    [void]$builder.Append('<command:parameters>')
    foreach ($p in $parameters) {
        $property = $type.GetProperty($p.Name)
        $text = @(if ($standard.ContainsKey($p.Name)) { $standard[$p.Name] }
            else { Get-Paragraphs (Get-Text $members["P:$($property.DeclaringType.FullName).$($p.Name)"]?.SelectSingleNode('summary')) })
        if ($text.Count -eq 0) { $problems.Add("$($command.Name) -$($p.Name): no <summary>") }
        $sets = @($p.ParameterSets.Values)
        $mandatory = @($sets | Where-Object IsMandatory).Count -gt 0
        $positions = @($sets | Where-Object { $_.Position -ge 0 } | ForEach-Object Position)
        $position = if ($positions.Count) { $positions[0] } else { 'named' }
        $globbing = $null -ne $property -and [bool]($property.GetCustomAttributes([Management.Automation.SupportsWildcardsAttribute], $true))
        [void]$builder.Append("<command:parameter required=`"$($mandatory.ToString().ToLower())`" globbing=`"$($globbing.ToString().ToLower())`" pipelineInput=`"$(Get-PipelineInput $p)`" position=`"$position`" aliases=`"$(Esc (($p.Aliases -join ', ') -replace '^$', 'none'))`">")
        [void]$builder.Append("<maml:name>$($p.Name)</maml:name><maml:description>$(Para $text)</maml:description>")
        [void]$builder.Append("<command:parameterValue required=`"true`">$(Esc (Get-TypeName $p.ParameterType))</command:parameterValue>")
        [void]$builder.Append("<dev:type><maml:name>$(Esc $p.ParameterType.FullName)</maml:name></dev:type><dev:defaultValue>None</dev:defaultValue></command:parameter>")
    }
    [void]$builder.Append('</command:parameters>')

    $inputs = @($parameters | Where-Object { (Get-PipelineInput $_) -ne 'false' } | ForEach-Object { $_.ParameterType.FullName } | Select-Object -Unique)
    [void]$builder.Append('<command:inputTypes>')
    foreach ($input in $inputs) { [void]$builder.Append("<command:inputType><dev:type><maml:name>$(Esc $input)</maml:name></dev:type></command:inputType>") }
    [void]$builder.Append('</command:inputTypes><command:returnValues>')
    foreach ($output in $command.OutputType) { [void]$builder.Append("<command:returnValue><dev:type><maml:name>$(Esc $output.Name)</maml:name></dev:type></command:returnValue>") }
    [void]$builder.Append('</command:returnValues>')

    [void]$builder.Append('<command:examples>')
    $number = 0
    foreach ($example in $examples) {
        $number++
        $code = (Get-Text $example.SelectSingleNode('code')).Trim()
        $remarks = @($example.SelectNodes('para') | ForEach-Object { (Get-Text $_) -replace '\s+', ' ' })
        [void]$builder.Append("<command:example><maml:title>-------------------------- Example $number --------------------------</maml:title><dev:code>$(Esc $code)</dev:code><dev:remarks>$(Para $remarks)</dev:remarks></command:example>")
    }
    [void]$builder.Append('</command:examples>')
    # RELATED LINKS: the conceptual topic, then the cmdlets of the same noun, then those a listing feeds.
    $related = @('about_Delayed') + @(Get-Command -Module $module.Name -Noun $command.Noun | Where-Object Name -ne $command.Name | ForEach-Object Name)
    if ($command.Noun -eq 'DelayedTask') { $related += 'Get-DelayedProcessing' }
    if ($command.Noun -in 'DelayedProcessing', 'DelayedWorker') { $related += 'Restore-DelayedTask', 'Get-DelayedWorker', 'Get-DelayedProcessing' }
    if ($command.Noun -eq 'DelayedHandler') { $related += 'Start-DelayedWorker' }
    if ($command.Noun -eq 'DelayedSweeper') { $related += 'Start-DelayedWorker', 'Get-DelayedProcessing', 'Get-DelayedQueue' }
    if ($command.Noun -eq 'DelayedDashboard') { $related += 'Watch-DelayedQueue', 'Get-DelayedQueue', 'Restore-DelayedTask' }
    if ($command.Noun -eq 'DelayedMetrics') { $related += 'Start-DelayedWorker', 'Start-DelayedSweeper', 'Get-DelayedQueue', 'Watch-DelayedQueue' }
    if ($command.Name -eq 'Start-DelayedWorker') { $related += 'Register-DelayedHandler', 'Start-DelayedSweeper', 'Stop-DelayedWorker' }
    [void]$builder.Append('<command:relatedLinks>')
    foreach ($link in $related | Where-Object { $_ -ne $command.Name } | Select-Object -Unique) {
        [void]$builder.Append("<maml:navigationLink><maml:linkText>$link</maml:linkText><maml:uri /></maml:navigationLink>")
    }
    [void]$builder.Append('</command:relatedLinks></command:command>')
    [void]$builder.AppendLine()
}
[void]$builder.AppendLine('</helpItems>')

if ($problems.Count) { throw "Help is incomplete:`n  $($problems -join "`n  ")" }
$culture = Join-Path $ModulePath 'en-US'
New-Item $culture -ItemType Directory -Force | Out-Null
Set-Content (Join-Path $culture 'Delayed.PowerShell.dll-Help.xml') $builder.ToString() -Encoding utf8
# The doc comments are now in the help file; the raw XML files are not part of the module.
Get-ChildItem $ModulePath -Filter '*.xml' -File | Remove-Item
