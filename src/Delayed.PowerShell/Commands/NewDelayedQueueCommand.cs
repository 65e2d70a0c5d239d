using System;
using System.Management.Automation;
using Delayed.PowerShell.Connections;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>Connects to a Redis server and returns a queue object.</summary>
/// <remarks>
/// A queue is named by a string and lives in three Redis keys: the task list (the name itself), the token list
/// (name_noti) and the in-flight hash (name_processing), the layout the Python and Go implementations of the
/// delayed protocol use. Workers of any of the three implementations can share a queue, one worker language per queue.
/// Connections are shared by configuration string within the process and reconnect by themselves. The queue
/// object shows the server's endpoint, never a password. An unreachable server is a terminating error that names the endpoint.
/// TLS: rediss:// or ssl=true checks the server's certificate against the system's trusted CAs and its name against
/// the host connected to; -CaCertificatePath trusts a private CA instead, -ClientCertificatePath or -ClientCertificate
/// proves the client to a server that requires it. Each of those turns TLS on. -SkipCertificateCheck turns the
/// check off (insecure: anyone on the path can pose as the server and read the password and every task).
/// </remarks>
/// <example>
/// <code>$queue = New-DelayedQueue -Name jobs</code>
/// <para>A queue named jobs on $env:DELAYED_REDIS, or on localhost:6379 when that variable is not set.</para>
/// </example>
/// <example>
/// <code>$queue = New-DelayedQueue jobs -Redis 'rediss://ops:s3cret@redis01:6380/2'</code>
/// <para>A queue in database 2 of a server reached over TLS, as user ops: the URL form that rq, Sidekiq and BullMQ users know.</para>
/// </example>
/// <example>
/// <code>$queue = New-DelayedQueue jobs -Redis 'rediss://redis01:6380' -CaCertificatePath /etc/ssl/private-ca.pem -ClientCertificatePath ./worker.pfx -ClientCertificatePassword (Read-Host -AsSecureString 'PFX password')</code>
/// <para>
/// A server whose certificate a private CA issued and that requires client certificates (tls-auth-clients yes). The
/// server's certificate must lead to that CA and bear the name connected to. -ClientCertificatePassword also takes a
/// PSCredential (its password is used).
/// </para>
/// </example>
/// <example>
/// <code>$cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile('worker.crt', 'worker.key')
/// $queue = New-DelayedQueue jobs -Redis 'redis01:6380' -CaCertificatePath ./ca.pem -ClientCertificate $cert</code>
/// <para>A client certificate kept as PEM files (PowerShell 7), or taken from a certificate store (Get-Item Cert:\CurrentUser\My\&lt;thumbprint&gt; on Windows).</para>
/// </example>
/// <example>
/// <code>$queue = New-DelayedQueue jobs -Redis 'sentinel1:26379,sentinel2:26379,sentinel3:26379' -SentinelService ops-redis</code>
/// <para>
/// A queue on the primary that Redis Sentinel monitors as ops-redis. After a failover the workers go on with the new
/// primary by themselves. Redis replicates asynchronously: a completion the old primary took but had not passed on
/// makes its task run again (at least once), and a task enqueued in that last instant is lost with the old primary
/// (Redis's own limit; min-replicas-to-write in redis.conf narrows it).
/// </para>
/// </example>
/// <example>
/// <code>$queue = New-DelayedQueue jobs -Redis 'redis01:6379,password=secret,ssl=true' -KeepAliveTimeout (New-TimeSpan -Seconds 30)</code>
/// <para>A queue on a server that needs a password and TLS, whose workers refresh a 30-second liveness key.</para>
/// </example>
[Cmdlet(VerbsCommon.New, "DelayedQueue")]
[OutputType(typeof(Queue))]
public sealed class NewDelayedQueueCommand : DelayedCmdlet
{
    /// <summary>The queue's name; its keys are the name, the name + "_noti" and the name + "_processing".</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>
    /// A StackExchange.Redis configuration string such as 'host:6379,password=…,ssl=true,defaultDatabase=1', or a Redis
    /// URL such as 'redis://user:password@host:6379/1' ('rediss://' for TLS; percent-encode any @ : / % or , in the user
    /// name or password). Default: $env:DELAYED_REDIS, else localhost:6379.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Redis { get; set; }

    /// <summary>
    /// The name under which Redis Sentinel monitors the primary ('sentinel monitor &lt;name&gt; …' in sentinel.conf). -Redis then
    /// names the sentinels (e.g. 'sentinel1:26379,sentinel2:26379'), and the queue follows the primary through failovers:
    /// workers go on with the new primary by themselves. Also serviceName=&lt;name&gt; in the configuration string.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SentinelService { get; set; }

    /// <summary>
    /// A file with the certificate of the CA that issued the server's certificate (PEM, several for a bundle, or DER), as
    /// redis-server's tls-ca-cert-file: the server is trusted only when its certificate leads to it, instead of to the
    /// system's trusted CAs. Turns TLS on.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CaCertificatePath { get; set; }

    /// <summary>
    /// A PKCS#12 file (.pfx, .p12) with the client certificate and its private key, for a server that requires client
    /// certificates (tls-auth-clients yes). Turns TLS on.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientCertificatePath { get; set; }

    /// <summary>The password of the -ClientCertificatePath file: a SecureString, or a PSCredential whose password is used.</summary>
    [Parameter]
    [SecretTransformation]
    public System.Security.SecureString? ClientCertificatePassword { get; set; }

    /// <summary>
    /// The client certificate as an object with its private key, e.g. from a certificate store or from
    /// [X509Certificate2]::CreateFromPemFile(certificate, key). Turns TLS on.
    /// </summary>
    [Parameter]
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; set; }

    /// <summary>
    /// Accepts any server certificate, whoever issued it and whatever name it bears. Insecure: anyone on the network path
    /// can pose as the server and read the password and every task. For a test server only; a warning says so each time.
    /// Turns TLS on.
    /// </summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>How long an idle worker blocks waiting for a task before it checks for a stop request. Default 1 second.</summary>
    [Parameter]
    public TimeSpan? DequeueTimeout { get; set; }

    /// <summary>Time to live of a worker's liveness key; a worker silent for longer is taken for dead and its task is recovered by the sweeper. Default 60 seconds.</summary>
    [Parameter]
    public TimeSpan? KeepAliveTimeout { get; set; }

    /// <summary>
    /// Most tasks the queue's failed store keeps, the oldest trimmed first; 0 keeps none (failures are then only
    /// reported). Applies to the workers and sweepers that use this queue object. Default 10,000.
    /// </summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int FailedTaskLimit { get; set; } = 10_000;

    /// <summary>How long the failed store keeps a task. Default 7 days.</summary>
    [Parameter]
    public TimeSpan FailedTaskRetention { get; set; } = TimeSpan.FromDays(7);

    protected override void ProcessRecord()
    {
        try
        {
            var queue = QueueFactory.Create(Name, Redis ?? ConnectionCache.DefaultConfiguration, DequeueTimeout, KeepAliveTimeout, ReadTlsSettings(), SentinelService);
            queue.Engine.FailedTaskLimit = FailedTaskLimit;
            queue.Engine.FailedTaskRetention = FailedTaskRetention;
            WriteObject(queue);
        }
        catch (Exception e) when (ToErrorRecord(e, Name) is { } record)
        {
            ThrowTerminatingError(record);
        }
    }

    private Core.Redis.TlsSettings? ReadTlsSettings()
    {
        if (CaCertificatePath is null && ClientCertificatePath is null && ClientCertificatePassword is null && ClientCertificate is null && !SkipCertificateCheck) return null;
        if (ClientCertificatePath is not null && ClientCertificate is not null)
            throw new ArgumentException("Give the client certificate either as a file (-ClientCertificatePath) or as an object (-ClientCertificate), not both.");
        if (ClientCertificatePassword is not null && ClientCertificatePath is null)
            throw new ArgumentException("-ClientCertificatePassword is the password of a -ClientCertificatePath file; give that file too.");
        if (SkipCertificateCheck)
        {
            if (CaCertificatePath is not null) throw new ArgumentException("-SkipCertificateCheck accepts any server certificate, so -CaCertificatePath would be ignored: give one or the other.");
            WriteWarning("-SkipCertificateCheck: the Redis server's certificate is not checked. Anyone on the network path can pose as the server " +
                "and read the password and every task. Give the CA's certificate with -CaCertificatePath instead.");
        }
        var authorities = CaCertificatePath is null ? null : Core.Redis.TlsSettings.ReadCertificateAuthorities(ResolvePath(CaCertificatePath));
        var client = ClientCertificate ?? (ClientCertificatePath is null ? null : Core.Redis.TlsSettings.ReadClientCertificate(ResolvePath(ClientCertificatePath), ClientCertificatePassword));
        return new Core.Redis.TlsSettings(authorities, client, SkipCertificateCheck);
    }

    private string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
}
