# The module's manifest as it ships: Delayed.psd1 with the version build.ps1 reads from Directory.Build.props and, once
# the project has a public home (PackageProjectUrl, which the publisher sets), ProjectUri and LicenseUri. For
# build.ps1 and Package.Tests.ps1, which checks that a manifest stamped with a home passes Test-ModuleManifest.
Set-StrictMode -Version 3

function ConvertTo-ReleaseManifest {
    param(
        [Parameter(Mandatory)] [string] $Template,
        [Parameter(Mandatory)] [string] $Version,
        [string] $ProjectUrl
    )
    $manifest = $Template -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion        = '$Version'"
    if (-not $ProjectUrl) { return $manifest }
    $uri = $null
    if (-not [Uri]::TryCreate($ProjectUrl, [UriKind]::Absolute, [ref] $uri) -or $uri.Scheme -notin 'https', 'http' -or $ProjectUrl.Contains("'")) {
        throw "PackageProjectUrl '$ProjectUrl' is not an http(s) address: give the project's public home, e.g. https://github.com/<owner>/delayed."
    }
    $projectHome = $ProjectUrl.TrimEnd('/')
    # Into PSData, before Tags, where PowerShellGet and PSResourceGet read them.
    return $manifest -replace "(\s*)Tags(\s*)=", "`$1ProjectUri   = '$projectHome'`$1LicenseUri   = '$projectHome/blob/main/LICENSE'`$1Tags`$2="
}

Export-ModuleMember -Function ConvertTo-ReleaseManifest
