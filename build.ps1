#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, demonstrates, benchmarks and packages the Delayed module.
.DESCRIPTION
    Tasks:
      Clean    removes out/ and the build outputs.
      Build    (default) builds the solution and lays out the importable module in out/Delayed/.
      Docs     generates the MAML help of the cmdlets from their XML doc comments (part of Build).
      Test     builds, makes sure redis-server is available, runs the xunit and Pester suites, and ends with
               one line 'N passed, N failed'. Exits non-zero on any failure.
      Demo     the module at work against a local Redis it starts and stops itself.
      Bench    the benchmark (bench/README.md); with -Contended, while stress-ng keeps every core busy; with -Warm, while
               stress-ng at the lowest priority keeps idle cores from halting; with -Go, instead the side-by-side run
               against the Go stand-in (bench/go-standin, built here with Debian's Go and redigo).
      Package  the module's .nupkg in out/packages/.
      Mutate   mutation testing of the core's codecs and protocol names with dotnet-stryker (tests/README.md: score, time,
               survivors); with -Worker, of the worker's claim, release and retry path instead (against Redis; longer).
.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Clean', 'Build', 'Docs', 'Test', 'Demo', 'Bench', 'Package', 'Mutate')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Bench: run the benchmark while a CPU hog (Debian's stress-ng, one worker per core) keeps every core busy, as on a
    # shared machine; the figures are printed as usual, to be compared with a quiet run.
    [switch] $Contended,

    # Bench: run the benchmark while stress-ng at nice 19 spins on every core, so that a core whose threads all wait is
    # never idle: a woken thread preempts the spinner at once instead of waiting for its core to leave the halt of an
    # idle virtual CPU. Virtual machines that poll before halting (KVM's haltpoll, on by default) behave so; this
    # machine halts at once (guest_halt_poll_ns 0), which slows every round trip that wakes a single thread.
    [switch] $Warm,

    # Bench: only the comparison with the Go implementation's commands (bench/go-standin: redigo under Go's runtime),
    # three alternating rounds; Go, redigo and msgpack come from Debian's packages, installed when missing.
    [switch] $Go,

    # Mutate: the worker's claim, release and retry path (tests/Mutation/stryker-worker.json) instead of the codecs.
    [switch] $Worker
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'Delayed'

function Invoke-Native {
    # Runs a native command and stops the build when it fails.
    param([string] $Command, [string[]] $Arguments)
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE." }
}

Import-Module (Join-Path $PSScriptRoot 'tools/Pwsh.psm1')
Import-Module (Join-Path $PSScriptRoot 'tools/ModuleManifest.psm1')

# A property as MSBuild evaluates it for a project (default: the module's), e.g. TargetPath or Version.
function Get-BuildProperty([string] $Name, [string] $Project = 'src/Delayed.PowerShell/Delayed.PowerShell.csproj') {
    $value = & dotnet msbuild (Join-Path $Root $Project) "-getProperty:$Name" "-p:Configuration=$Configuration" -nologo
    if ($LASTEXITCODE -ne 0) { throw "MSBuild could not evaluate $Name of $Project." }
    return "$value".Trim()
}

function Invoke-Clean {
    foreach ($path in @($Out) + (Get-ChildItem $Root -Recurse -Directory -Include bin, obj | Select-Object -ExpandProperty FullName)) {
        if (Test-Path $path) { Remove-Item $path -Recurse -Force }
    }
}

function Invoke-Build {
    Invoke-Native dotnet @('build', (Join-Path $Root 'Delayed.PowerShell.sln'), '-c', $Configuration, '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')
    if (Test-Path $ModuleOut) { Remove-Item $ModuleOut -Recurse -Force }
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/Delayed.PowerShell'), '-c', $Configuration, '-o', $ModuleOut, '--no-build', '--nologo', '-v', 'quiet')
    Get-ChildItem $ModuleOut -Include *.pdb, *.deps.json -Recurse | Remove-Item
    # The engine and its dependencies go to lib/, loaded in isolation (see src/Delayed.PowerShell/Hosting/ModuleInitializer.cs).
    $lib = New-Item (Join-Path $ModuleOut 'lib') -ItemType Directory -Force
    $moduleRoot = @('Delayed.PowerShell.dll', 'Delayed.Abstractions.dll')
    Get-ChildItem $ModuleOut -Filter '*.dll' -File | Where-Object Name -notin $moduleRoot | Move-Item -Destination $lib
    Copy-Item (Get-BuildProperty TargetPath 'src/Delayed.LoadContext/Delayed.LoadContext.csproj') $ModuleOut
    Copy-Item (Join-Path $Root 'src/Delayed.PowerShell/Delayed.Format.ps1xml'), (Join-Path $Root 'src/Delayed.PowerShell/Delayed.Types.ps1xml'), (Join-Path $Root 'LICENSE') $ModuleOut
    # about_Delayed points to the least-privilege Redis accounts: they ship with the module.
    $shipped = New-Item (Join-Path $ModuleOut 'examples') -ItemType Directory -Force
    Copy-Item (Join-Path $Root 'examples/redis/delayed.acl') $shipped
    $manifest = ConvertTo-ReleaseManifest -Template (Get-Content (Join-Path $Root 'Delayed.psd1') -Raw) -Version (Get-BuildProperty VersionPrefix) -ProjectUrl (Get-BuildProperty PackageProjectUrl)
    Set-Content (Join-Path $ModuleOut 'Delayed.psd1') $manifest -NoNewline
    Invoke-Docs
    $examples = Join-Path $Out 'examples'
    New-Item $examples -ItemType Directory -Force | Out-Null
    Copy-Item (Get-BuildProperty TargetPath 'examples/Delayed.Examples/Delayed.Examples.csproj') $examples
    Write-Host "Module: $ModuleOut"
}

function Invoke-Docs {
    # In a child process, so that this one never loads (and locks) the module's assemblies.
    $pwsh = @(Get-PwshCommand)
    $arguments = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-File', (Join-Path $Root 'tools/New-MamlHelp.ps1'), '-ModulePath', $ModuleOut)
    Invoke-Native $pwsh[0] $arguments
    $aboutSource = Join-Path $Root 'docs/en-US'
    if (Test-Path $aboutSource) { Copy-Item (Join-Path $aboutSource 'about_*.help.txt') (Join-Path $ModuleOut 'en-US') }
}

function Assert-Packages([switch] $ForTests, [switch] $Bench, [switch] $Go) {
    # Commands and the Debian packages that bring them: redis-server for the demo and every suite; for the tests also
    # redis-sentinel (failover), redis-cli (a script that holds the server: BUSY), tmux (Ctrl+C and Watch-DelayedQueue
    # in a real terminal), chromium and its driver (the dashboard's browser tests).
    $needed = [ordered]@{ 'redis-server' = 'redis-server' }
    if ($ForTests) { $needed += [ordered]@{ 'redis-sentinel' = 'redis-sentinel'; 'redis-cli' = 'redis-tools'; 'tmux' = 'tmux'; 'chromium' = 'chromium'; 'chromedriver' = 'chromium-driver' } }
    if ($Bench) { $needed += [ordered]@{ 'stress-ng' = 'stress-ng' } } # the contended benchmark's CPU hog
    # The Go stand-in's compiler and libraries (GOPATH mode over Debian's /usr/share/gocode: nothing is downloaded).
    if ($Go) { $needed += [ordered]@{ 'go' = 'golang-go'; '/usr/share/gocode/src/github.com/gomodule/redigo' = 'golang-github-gomodule-redigo-dev'; '/usr/share/gocode/src/github.com/vmihailenco/msgpack/v5' = 'golang-github-vmihailenco-msgpack.v5-dev' } }
    $missing = @($needed.Keys | Where-Object { -not ($_.StartsWith('/') ? (Test-Path $_) : (Get-Command $_ -ErrorAction SilentlyContinue)) } | ForEach-Object { $needed[$_] })
    if (-not $missing) { return }
    $isRoot = $IsLinux -and ((& id -u) -eq '0')
    if ($isRoot -and (Get-Command apt-get -ErrorAction SilentlyContinue)) {
        Write-Host "$($missing -join ', ') missing: installing Debian's packages."
        Invoke-Native apt-get @('update', '-qq')
        Invoke-Native apt-get (@('install', '-y', '-qq') + $missing)
        return
    }
    throw "$($missing -join ', ') not installed. Install them (Debian/Ubuntu: sudo apt-get install $($missing -join ' '); macOS: brew install redis tmux chromium chromedriver) and run this again."
}

function Get-PesterModule {
    $dir = Join-Path $Root 'tools'
    Invoke-Native dotnet @('restore', (Join-Path $dir 'tools.proj'), '--nologo', '-v', 'quiet')
    $cache = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $pester = Join-Path $cache 'pester/5.7.1/tools/Pester.psd1'
    if (-not (Test-Path $pester)) { throw "Pester 5.7.1 was not restored to $pester." }
    return $pester
}

function Invoke-UnitTests {
    $results = Join-Path $Out 'test-results'
    $trx = Join-Path $results 'unit.trx'
    if (Test-Path $trx) { Remove-Item $trx }
    & dotnet test (Join-Path $Root 'tests/Unit') -c $Configuration --no-build --nologo --logger 'trx;LogFileName=unit.trx' --logger 'console;verbosity=normal' --results-directory $results | Out-Host
    if (-not (Test-Path $trx)) { return @{ Passed = 0; Failed = 1; Note = 'xunit produced no results' } }
    $counters = ([xml](Get-Content $trx -Raw)).TestRun.ResultSummary.Counters
    $failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    if ($LASTEXITCODE -ne 0 -and $failed -eq 0) { $failed = 1 }
    return @{ Passed = [int]$counters.passed; Failed = $failed }
}

function Invoke-PesterTests {
    # Each test file in a fresh pwsh: no module state, handler or connection leaks from one file to the next.
    $pester = Get-PesterModule
    $results = Join-Path $Out 'test-results'
    New-Item $results -ItemType Directory -Force | Out-Null
    $pwsh = @(Get-PwshCommand)
    $env:DELAYED_MODULE = Join-Path $ModuleOut 'Delayed.psd1'
    $total = @{ Passed = 0; Failed = 0 }
    foreach ($file in Get-ChildItem (Join-Path $Root 'tests/Pester') -Filter '*.Tests.ps1' | Sort-Object Name) {
        $summary = Join-Path $results "pester-$($file.BaseName).json"
        if (Test-Path $summary) { Remove-Item $summary }
        $runner = Join-Path $Root 'tools/Invoke-PesterFile.ps1'
        $arguments = @('-NoProfile', '-NonInteractive', '-File', $runner, '-Pester', $pester, '-Path', $file.FullName,
            '-ResultXml', (Join-Path $results "pester-$($file.BaseName).xml"), '-Summary', $summary)
        Push-Location $results
        try { & $pwsh[0] @($pwsh | Select-Object -Skip 1) @arguments | Out-Host } finally { Pop-Location }
        if (Test-Path $summary) {
            $counts = Get-Content $summary -Raw | ConvertFrom-Json
            $total.Passed += [int]$counts.Passed
            $total.Failed += [int]$counts.Failed
        } else {
            Write-Host "$($file.Name) produced no results: counted as one failure."
            $total.Failed += 1
        }
    }
    return $total
}

function Invoke-Test {
    Invoke-Build
    Assert-Packages -ForTests
    $unit = Invoke-UnitTests
    $pester = Invoke-PesterTests
    foreach ($suite in @(@{ Name = 'xunit'; R = $unit }, @{ Name = 'Pester'; R = $pester })) {
        $note = if ($suite.R.ContainsKey('Note')) { " ($($suite.R.Note))" } else { '' }
        Write-Host ("{0}: {1} passed, {2} failed{3}" -f $suite.Name, $suite.R.Passed, $suite.R.Failed, $note)
    }
    $passed = $unit.Passed + $pester.Passed
    $failed = $unit.Failed + $pester.Failed
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    Assert-Packages
    $pwsh = @(Get-PwshCommand)
    $env:DELAYED_MODULE = Join-Path $ModuleOut 'Delayed.psd1'
    & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -File (Join-Path $Root 'examples/demo.ps1')
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

# Builds bench/go-standin with Debian's Go libraries and returns the program's path.
function Build-GoStandIn {
    $binary = Join-Path $Out 'bench/go-standin'
    $env:GO111MODULE = 'off'
    $env:GOPATH = '/usr/share/gocode'
    $env:GOCACHE = Join-Path $Out 'go-cache'
    Push-Location (Join-Path $Root 'bench/go-standin')
    try { Invoke-Native go @('build', '-o', $binary, '.') } finally { Pop-Location }
    return $binary
}

function Invoke-Bench {
    Invoke-Build
    if ($Contended -and $Warm) { throw 'Choose -Contended (CPU hogs at normal priority) or -Warm (spinners at the lowest priority), not both.' }
    Assert-Packages -Bench:($Contended -or $Warm) -Go:$Go
    $benchArguments = @()
    if ($Go) {
        $env:DELAYED_GO_STANDIN = Build-GoStandIn
        $benchArguments = @('--', 'go')
    }
    $hog = $null
    if ($Contended) {
        $cores = [Environment]::ProcessorCount
        Write-Host "Contended: stress-ng --cpu $cores keeps every core busy during the run."
        $hog = Start-Process stress-ng -ArgumentList @('--cpu', $cores, '--quiet') -PassThru
    }
    elseif ($Warm) {
        $cores = [Environment]::ProcessorCount
        Write-Host "Warm: stress-ng --cpu $cores at nice 19 keeps every core out of its idle state during the run."
        $hog = Start-Process nice -ArgumentList @('-n', '19', 'stress-ng', '--cpu', $cores, '--quiet') -PassThru
    }
    try {
        Invoke-Native dotnet (@('run', '--project', (Join-Path $Root 'bench/Delayed.Bench'), '-c', 'Release', '--no-build') + $benchArguments)
        if ($Go) { return }
        $pwsh = @(Get-PwshCommand)
        $env:DELAYED_MODULE = Join-Path $ModuleOut 'Delayed.psd1'
        Invoke-Native $pwsh[0] (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-File', (Join-Path $Root 'bench/cmdlets.ps1')))
    }
    finally {
        if ($hog -and -not $hog.HasExited) {
            # stress-ng stops its workers when its parent process gets SIGTERM.
            & kill -TERM $hog.Id
            $null = $hog.WaitForExit(10000)
        }
    }
}

function Invoke-Mutate {
    # Not part of Test: it takes minutes (tests/README.md says how long). Reports land in tests/Mutation/StrykerOutput/.
    Invoke-Native dotnet @('tool', 'restore')
    if ($Worker) { Assert-Packages } # its tests start redis-server
    Push-Location (Join-Path $Root 'tests/Mutation')
    try {
        $config = if ($Worker) { 'stryker-worker.json' } else { 'stryker-config.json' }
        Invoke-Native dotnet @('dotnet-stryker', '--config-file', $config, '--solution', (Join-Path $Root 'Delayed.PowerShell.sln'))
    } finally { Pop-Location }
}

function Invoke-Package {
    Invoke-Build
    $packages = Join-Path $Out 'packages'
    New-Item $packages -ItemType Directory -Force | Out-Null
    Get-ChildItem $packages -Filter 'Delayed.*.nupkg' | Remove-Item
    $repository = 'DelayedBuild'
    if (Get-PSResourceRepository -Name $repository -ErrorAction SilentlyContinue) { Unregister-PSResourceRepository -Name $repository }
    Register-PSResourceRepository -Name $repository -Uri $packages -Trusted
    try {
        Publish-PSResource -Path $ModuleOut -Repository $repository -SkipDependenciesCheck
    } finally {
        Unregister-PSResourceRepository -Name $repository
    }
    Get-ChildItem $packages -Filter 'Delayed.*.nupkg' | ForEach-Object { Write-Host "Package: $($_.FullName)" }
}

switch ($Task) {
    'Clean' { Invoke-Clean }
    'Build' { Invoke-Build }
    'Docs' { Invoke-Docs }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Package' { Invoke-Package }
    'Mutate' { Invoke-Mutate }
}
