# New-DelayedQueue over TLS with a private CA and client certificates made for this run, against TLS-only servers:
# trusted as configured, refused otherwise with an error that says why, passwords taken only as secrets.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    Add-Type -Path "$PSScriptRoot/../Shared/TestCertificates.cs"
    $certificates = [Delayed.Testing.TestCertificates]::new()
    $server = Start-LocalRedis -Tls -Arguments $certificates.ServerArguments($false, $true) # requires client certificates
    $wrongName = Start-LocalRedis -Tls -Arguments $certificates.ServerArguments($true, $false)
    $password = ConvertTo-SecureString ([Delayed.Testing.TestCertificates]::ClientPassword) -AsPlainText -Force
    $handler = @{ 'm:echo' = { param($x) $x } }
    # A refused handshake sometimes surfaces only at the connect timeout: keep that short where refusal is expected.
    $refusing = "$($server.Configuration),connectTimeout=2000"
    $refusingWrongName = "$($wrongName.Configuration),connectTimeout=2000"
}
AfterAll { Stop-LocalRedis $server; Stop-LocalRedis $wrongName; $certificates.Dispose() }

Describe 'New-DelayedQueue over TLS' {
    It 'trusts the given CA, offers the client certificate from a PFX file, and a worker runs tasks over it' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $server.Configuration -CaCertificatePath $certificates.CaFile `
            -ClientCertificatePath $certificates.ClientPfxFile -ClientCertificatePassword $password -DequeueTimeout '00:00:00.2'
        Add-DelayedTask $queue m:echo 42
        $result = Start-DelayedWorker $queue -Handler $handler -StopWhenEmpty -PassThru
        $result.Status | Should -Be Succeeded
        (Get-DelayedQueue $queue).Length | Should -Be 0
    }

    It 'takes the PFX password as a PSCredential, and resolves relative paths from the current location' {
        Push-Location $certificates.Folder
        try {
            $credential = [pscredential]::new('pfx', $password)
            $queue = New-DelayedQueue (New-QueueName) -Redis $server.Configuration -CaCertificatePath ./ca.pem `
                -ClientCertificatePath ./client.pfx -ClientCertificatePassword $credential
            Add-DelayedTask $queue m:echo 1
            (Get-DelayedQueue $queue).Length | Should -Be 1
        } finally { Pop-Location }
    }

    It 'refuses a password given as plain text, saying how to give it' {
        { New-DelayedQueue q -Redis $server.Configuration -ClientCertificatePath $certificates.ClientPfxFile -ClientCertificatePassword 'plain' } |
            Should -Throw '*SecureString*PSCredential*'
    }

    It 'refuses a server whose certificate another CA issued, saying so' {
        { New-DelayedQueue q -Redis $refusing -CaCertificatePath $certificates.OtherCaFile -ClientCertificatePath $certificates.ClientPfxFile -ClientCertificatePassword $password } |
            Should -Throw '*does not lead to the CA certificate(s) given*'
    }

    It 'refuses a certificate that names another host, even from the trusted CA' {
        { New-DelayedQueue q -Redis $refusingWrongName -CaCertificatePath $certificates.CaFile } |
            Should -Throw '*issued for another name (CN=redis.invalid)*'
    }

    It 'skips the check only when asked by name, and warns every time' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $wrongName.Configuration -SkipCertificateCheck -WarningVariable warnings -WarningAction SilentlyContinue
        "$warnings" | Should -BeLike '*not checked*pose as the server*'
        Add-DelayedTask $queue m:echo 1
        (Get-DelayedQueue $queue).Length | Should -Be 1
    }

    It 'says which file is wrong and what to give' {
        { New-DelayedQueue q -Redis $server.Configuration -CaCertificatePath (Join-Path $certificates.Folder 'missing.pem') } |
            Should -Throw '*Cannot read the CA certificate file*missing.pem*'
        { New-DelayedQueue q -Redis $server.Configuration -CaCertificatePath $certificates.CaFile -ClientCertificatePath $certificates.ClientPfxFile -ClientCertificatePassword (ConvertTo-SecureString wrong -AsPlainText -Force) } |
            Should -Throw '*Cannot read the client certificate file*'
        { New-DelayedQueue q -Redis $server.Configuration -ClientCertificatePassword $password } |
            Should -Throw '*give that file too*'
    }
}
