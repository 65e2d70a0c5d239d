using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>
/// A connection to one Redis server: a shared multiplexer for every ordinary command, and dedicated
/// connections for blocking waits (a BLPOP on the shared multiplexer would stall every other command).
/// The multiplexer reconnects by itself after the first successful connect.
/// </summary>
public sealed class DelayedConnection : IDisposable
{
    private readonly ConfigurationOptions _options;
    private readonly DirectTls? _tls;
    private readonly SentinelPrimary? _sentinel;
    private readonly SemaphoreSlim _switching = new(1, 1);
    private ConnectionMultiplexer _shared;
    private int _disposed;

    private readonly Lazy<DirectConnection?> _enqueue;
    private readonly Lazy<PipelinedEnqueueConnection?> _pipelinedEnqueue;

    /// <summary>Tasks this process schedules through this connection, told to its promoters (<see cref="Scheduling.ScheduleNotices"/>).</summary>
    internal Scheduling.ScheduleNotices ScheduleNotices { get; } = new();

    private DelayedConnection(ConfigurationOptions options, ConnectionMultiplexer shared, SentinelPrimary? sentinel, TlsSettings? tls)
    {
        _options = options;
        _tls = options.Ssl ? new DirectTls(options, tls) : null;
        _shared = shared;
        _sentinel = sentinel;
        _enqueue = new Lazy<DirectConnection?>(OpenEnqueue);
        _pipelinedEnqueue = new Lazy<PipelinedEnqueueConnection?>(OpenPipelinedEnqueue);
        if (sentinel is not null) sentinel.Switched += primary => _ = FollowAsync(primary);
    }

    /// <summary>
    /// The synchronous connection through which an enqueuer on a thread of its own appends, one at a time
    /// (<see cref="DirectConnection.TryEnqueue"/>), over TLS too; null on a cluster (whose queues live on several servers),
    /// where every enqueue goes through the multiplexer.
    /// </summary>
    internal DirectConnection? EnqueueConnection => _enqueue.Value;

    /// <summary>
    /// The connection through which enqueuers on the thread pool append, pipelined (<see cref="PipelinedEnqueueConnection"/>);
    /// null on a cluster and behind sentinels (whose primary may change under calls in flight), where they go
    /// through the multiplexer.
    /// </summary>
    internal PipelinedEnqueueConnection? PipelinedEnqueue => PipelinesEnqueues ? _pipelinedEnqueue.Value : null;

    /// <summary>Whether enqueuers on the thread pool use <see cref="PipelinedEnqueue"/>; tests turn it off to reach the multiplexer's path.</summary>
    internal bool PipelinesEnqueues { get; set; } = true;

    private PipelinedEnqueueConnection? OpenPipelinedEnqueue() =>
        IsCluster || _sentinel is not null ? null : new PipelinedEnqueueConnection(Primary, _options, PipelinedEnqueueClientName, _tls);

    /// <summary>The enqueue connection's name in CLIENT LIST (where the account may set one).</summary>
    internal const string EnqueueClientName = "delayed-enqueue";

    /// <summary>The pipelined enqueue connection's name in CLIENT LIST.</summary>
    internal const string PipelinedEnqueueClientName = "delayed-enqueue-pipelined";

    private DirectConnection? OpenEnqueue()
    {
        if (IsCluster) return null;
        // One server holds every key. Enqueue replies are a few bytes.
        return new DirectConnection(Primary, _options, 65536, "Delayed enqueue", EnqueueClientName, queue: null,
            followEachCall: _sentinel is not null, tls: _tls);
    }

    /// <summary>The server as users should see it: endpoints and database, never the password.</summary>
    public string DisplayName { get; private set; } = "";

    public IDatabase Database => Shared.GetDatabase();

    private ConnectionMultiplexer Shared => Volatile.Read(ref _shared);


    /// <summary>Whether every server takes fractional BLPOP timeouts (Redis 6.0 or later).</summary>
    public bool TakesFractionalTimeouts => Array.TrueForAll(Shared.GetServers(), server => server.Version >= new Version(6, 0));

    /// <summary>Whether the server is a Redis Cluster, where every key a script or transaction touches must share one slot.</summary>
    public bool IsCluster => Array.Exists(Shared.GetServers(), server => server.ServerType == ServerType.Cluster);

    /// <summary>
    /// Connects with a StackExchange.Redis configuration string (e.g. "localhost:6379,password=…") or a Redis URL
    /// (redis://user:password@host:6379/0, rediss:// for TLS).
    /// </summary>
    /// <param name="configuration">The configuration string or URL.</param>
    /// <param name="tls">How TLS certificates are checked and offered; any settings turn TLS on.</param>
    /// <param name="sentinelService">
    /// The service name under which Redis Sentinel knows the primary: the configuration then names the sentinels, and the
    /// connection follows the primary through failovers. Also serviceName= in the configuration string.
    /// </param>
    public static async Task<DelayedConnection> ConnectAsync(string configuration, TlsSettings? tls = null, string? sentinelService = null)
    {
        var options = Parse(configuration);
        tls?.ApplyTo(options);
        if (!string.IsNullOrWhiteSpace(sentinelService)) options.ServiceName = sentinelService;
        var display = Describe(options);
        ConnectionMultiplexer shared;
        SentinelPrimary? sentinel = null;
        try
        {
            if (string.IsNullOrEmpty(options.ServiceName))
            {
                shared = await ConnectionMultiplexer.ConnectAsync(WithFirstConnectChecked(options)).ConfigureAwait(false);
            }
            else
            {
                sentinel = await SentinelPrimary.ConnectAsync(WithFirstConnectChecked(options)).ConfigureAwait(false);
                try
                {
                    shared = await ConnectionMultiplexer.ConnectAsync(WithFirstConnectChecked(SentinelPrimary.ForPrimary(options, sentinel.Primary))).ConfigureAwait(false);
                }
                catch
                {
                    sentinel.Dispose();
                    throw;
                }
            }
        }
        catch (RedisConnectionException e) when (IsTlsHandshakeFailure(e, options))
        {
            var why = tls?.LastRefusal ?? (tls?.ClientCertificate is null
                ? "the server ended the handshake; if it requires a client certificate (tls-auth-clients yes), give one"
                : "the server ended the handshake; check that it trusts the issuer of the client certificate given");
            throw new DelayedConnectionException($"The TLS connection to Redis at {display} was refused: {why}.", e);
        }
        catch (RedisConnectionException e) when (IsRefusedCredentials(e))
        {
            throw new DelayedConnectionException(
                $"Redis at {display} refused the user name or password. Check them (password=… and user=… in the configuration " +
                "string, or redis://user:password@host in a URL); the server is up and answered.", e);
        }
        catch (RedisConnectionException e)
        {
            if (await WrongKindOfServer.ExplainAsync(options).ConfigureAwait(false) is { } wrongKind)
                throw new DelayedConnectionException($"Cannot connect to Redis at {display}: {wrongKind}", e);
            // Under TLS 1.3 a server refuses a missing or unknown client certificate only after the handshake, by closing
            // the connection: the client sees no certificate error, so the likely cause is named here.
            var clientCertificate = !options.Ssl ? "" : tls?.ClientCertificate is null
                ? " Over TLS: if the server requires a client certificate (tls-auth-clients yes), give one."
                : " Over TLS: check that the server trusts the issuer of the client certificate given.";
            var check = string.IsNullOrEmpty(options.ServiceName)
                ? "Check that the server is running and reachable, and that the configuration string (host:port,password=…,ssl=…) is right."
                : $"Check that the sentinels run and are reachable, that they monitor a primary named '{options.ServiceName}' " +
                  "(sentinel monitor <name> in sentinel.conf; SENTINEL MASTERS lists them), and that the primary answers.";
            throw new DelayedConnectionException($"Cannot connect to Redis at {display}. {check}{clientCertificate}", e);
        }
        // After the first connect, reconnect by itself instead of failing.
        return new DelayedConnection(options, shared, sentinel, tls) { DisplayName = display };
    }

    /// <summary>Opens a connection reserved for blocking commands whose replies may take up to <paramref name="longestBlock"/>.</summary>
    public async Task<BlockingConnection> OpenBlockingAsync(TimeSpan longestBlock)
    {
        var options = _options.Clone();
        var timeout = (int)Math.Min(int.MaxValue, (longestBlock + TimeSpan.FromSeconds(10)).TotalMilliseconds);
        options.SyncTimeout = Math.Max(options.SyncTimeout, timeout);
        options.AsyncTimeout = Math.Max(options.AsyncTimeout, timeout);
        options.AbortOnConnectFail = false;
        // No pub/sub here: one socket per blocking connection is enough.
        options.CommandMap = CommandMap.Create(new HashSet<string> { "SUBSCRIBE", "CONFIG" }, available: false);
        if (_sentinel is null) return new BlockingConnection(await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false));
        // Behind sentinels: to the primary alone, and again to the next one after a failover.
        return await BlockingConnection.BehindSentinelsAsync(_sentinel, primary => ConnectionMultiplexer.ConnectAsync(SentinelPrimary.ForPrimary(options, primary))).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens a worker slot's own synchronous connection for its busy claims (<see cref="DirectConnection"/>) to the server
    /// that holds <paramref name="key"/>, named <paramref name="clientName"/> there, over TLS when the multiplexer's is.
    /// </summary>
    internal DirectConnection OpenDirect(RedisKey key, long maxReplyBytes, string threadName, string clientName) =>
        new(() => ServerOf(key), _options, maxReplyBytes, threadName, clientName.Any(char.IsWhiteSpace) ? null : clientName, queue: (string?)key,
            followEachCall: _sentinel is not null, tls: _tls);

    /// <summary>
    /// The server of a connection that is not to a cluster, where every key lives, as the multiplexer knows it without
    /// asking (asking names a key, which an account limited to its queues' keys may not touch): behind sentinels the
    /// primary they name; else the primary connected to, or, given only a replica, that replica (whose refusal to write
    /// the caller then reports as the server gives it); null while the multiplexer has no connection.
    /// </summary>
    private EndPoint? Primary()
    {
        if (_sentinel is not null) return _sentinel.Primary;
        EndPoint? replica = null;
        foreach (var server in Shared.GetServers())
        {
            if (!server.IsConnected) continue;
            if (!server.IsReplica) return server.EndPoint;
            replica ??= server.EndPoint;
        }
        return replica;
    }

    /// <summary>
    /// The server that holds <paramref name="key"/>: behind sentinels, the primary they name (no round trip); otherwise as
    /// the multiplexer knows it, null while it has no connection. Asking the multiplexer costs a round trip
    /// (StackExchange.Redis answers by sending EXISTS), which, with the server down, would wait out a whole timeout before
    /// the caller's own call waits out another.
    /// </summary>
    private EndPoint? ServerOf(RedisKey key)
    {
        if (_sentinel is not null) return _sentinel.Primary;
        var shared = Shared;
        return shared.IsConnected ? shared.GetDatabase().IdentifyEndpoint(key) : null;
    }

    /// <summary>
    /// After a failover: connects to the primary the sentinels now name and sends every later command there. The old
    /// multiplexer is closed once the commands already sent through it have had their time, not at once: a caller that took
    /// its database a moment before the switch gets its answer (or its failure) as from any server that goes away.
    /// </summary>
    private async Task FollowAsync(EndPoint primary)
    {
        await _switching.WaitAsync().ConfigureAwait(false);
        try
        {
            var options = SentinelPrimary.ForPrimary(_options, primary);
            options.AbortOnConnectFail = false;
            ConnectionMultiplexer? next = null;
            while (next is null)
            {
                // A later switch follows on its own; a closed connection follows nothing.
                if (Volatile.Read(ref _disposed) != 0 || !Equals(_sentinel!.Primary, primary)) return;
                try
                {
                    // Without AbortOnConnectFail this returns before the server answers, and reconnects by itself.
                    next = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
                }
                catch (RedisException)
                {
                    await Task.Delay(SentinelPrimary.PollInterval).ConfigureAwait(false);
                }
            }
            var old = Interlocked.Exchange(ref _shared, next);
            if (Volatile.Read(ref _disposed) != 0) next.Dispose();
            var grace = TimeSpan.FromMilliseconds(Math.Max(_options.SyncTimeout, _options.AsyncTimeout) + 1000);
            _ = Task.Delay(grace).ContinueWith(_ => old.Dispose(), TaskScheduler.Default);
        }
#pragma warning disable CA1031 // Runs from the sentinels' timer or announcement, where nothing may escape (a Redis failure is retried above).
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        finally
        {
            _switching.Release();
        }
    }

    /// <summary>
    /// The eviction policy under which the server deletes keys once it reaches its memory limit (maxmemory-policy, from
    /// INFO memory), when it has a limit and the policy is not noeviction: tasks are keys, and so are the workers' liveness
    /// keys. Null when the server evicts nothing, or does not say (an account without INFO).
    /// </summary>
    public async Task<string?> EvictingPolicyAsync()
    {
        string info;
        try
        {
            info = (string?)await Database.ExecuteAsync("INFO", "memory").ConfigureAwait(false) ?? "";
        }
        catch (RedisServerException)
        {
            return null;
        }
        string? Field(string name) => info.Split('\n').Select(line => line.Trim())
            .FirstOrDefault(line => line.StartsWith(name + ":", StringComparison.Ordinal))?.Substring(name.Length + 1);
        var limited = Field("maxmemory") is { } limit && limit != "0";
        return limited && Field("maxmemory_policy") is { } policy && policy != "noeviction" ? policy : null;
    }

    /// <summary>
    /// Names of queues on this server that have any key besides their task list (tokens, in-flight tasks, workers, a
    /// schedule, failed tasks...), found by SCAN, never KEYS, looking at no more than about <paramref name="maxKeys"/>
    /// keys (tab completion bounds it; listing every queue does not).
    /// </summary>
    public async Task<System.Collections.Generic.IReadOnlyCollection<string>> FindQueueNamesAsync(string prefix, int maxKeys = 5000)
    {
        var names = new System.Collections.Generic.SortedSet<string>(StringComparer.Ordinal);
        var pattern = EscapePattern(prefix) + "*_*";
        long cursor = 0;
        long scanned = 0;
        do
        {
            var reply = (RedisResult[])(await Database.ExecuteAsync("SCAN", cursor, "MATCH", pattern, "COUNT", 1000).ConfigureAwait(false))!;
            cursor = long.Parse((string)reply[0]!, System.Globalization.CultureInfo.InvariantCulture);
            foreach (var key in (RedisResult[])reply[1]!)
            {
                var name = (string)key!;
                foreach (var suffix in Protocol.QueueKeys.Suffixes)
                    if (name.EndsWith(suffix, StringComparison.Ordinal)) names.Add(name.Substring(0, name.Length - suffix.Length));
            }
            scanned += 1000;
        }
        while (cursor != 0 && scanned < maxKeys);
        return names;
    }

    private static string EscapePattern(string text)
    {
        var escaped = new System.Text.StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '*' or '?' or '[' or ']' or '\\') escaped.Append('\\');
            escaped.Append(c);
        }
        return escaped.ToString();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _sentinel?.Dispose();
        if (_enqueue.IsValueCreated) _enqueue.Value?.Dispose();
        if (_pipelinedEnqueue.IsValueCreated) _pipelinedEnqueue.Value?.Dispose();
        Shared.Dispose();
    }

    public override string ToString() => DisplayName;

    private static readonly string DefaultTieBreaker = new ConfigurationOptions().TieBreaker;
    private static readonly string DefaultConfigurationChannel = new ConfigurationOptions().ConfigurationChannel;
    private static readonly int DefaultConfigCheckSeconds = new ConfigurationOptions().ConfigCheckSeconds;

    /// <summary>The server a configuration string names, as users should see it (never the password); throws ArgumentException when it is not valid.</summary>
    public static string DisplayNameOf(string configuration) => Describe(Parse(configuration));

    /// <summary>
    /// A TLS handshake that failed: a certificate refused here, or the server ending it (a client certificate missing
    /// or not trusted there), which the client reports as an authentication failure without a password refusal.
    /// </summary>
    private static bool IsTlsHandshakeFailure(RedisConnectionException e, ConfigurationOptions options)
    {
        if (!options.Ssl) return false;
        for (Exception? inner = e.InnerException; inner is not null; inner = inner.InnerException)
            if (inner is System.Security.Authentication.AuthenticationException) return true;
        return e.FailureType == ConnectionFailureType.AuthenticationFailure && !IsPasswordRefusal(e);
    }

    private static bool IsRefusedCredentials(RedisConnectionException e) =>
        e.FailureType == ConnectionFailureType.AuthenticationFailure || IsPasswordRefusal(e);

    private static bool IsPasswordRefusal(RedisConnectionException e)
    {
        var text = e.ToString();
        return text.Contains("WRONGPASS") || text.Contains("NOAUTH") || text.Contains("invalid password") || text.Contains("invalid username-password");
    }

    internal static ConfigurationOptions Parse(string configuration)
    {
        if (string.IsNullOrWhiteSpace(configuration))
            throw new ArgumentException("The Redis configuration is empty; give host:port, e.g. localhost:6379.", nameof(configuration));
        ConfigurationOptions options;
        try
        {
            options = RedisUrl.IsUrl(configuration.Trim()) ? RedisUrl.Parse(configuration.Trim()) : ParseOptions(configuration);
        }
        catch (ArgumentException e) when (e.ParamName != "configuration")
        {
            // The message of a parse error can quote the string, and so a password: leave it out.
            throw new ArgumentException("The Redis configuration string is not valid: " + e.ParamName +
                ". Use host:port followed by comma-separated options such as password=…, ssl=true, defaultDatabase=1, or a URL redis://user:password@host:port/db.", nameof(configuration));
        }
        if (options.EndPoints.Count == 0)
            throw new ArgumentException("The Redis configuration names no server; give host:port, e.g. localhost:6379.", nameof(configuration));
        options.SocketManager = SocketManager.ThreadPool;
        // Neither a tie-breaker key nor the reconfiguration channel serves a queue, and each would need rights
        // (GET, SUBSCRIBE) that a least-privilege Redis account should not have to grant. Kept when set explicitly.
        if (options.TieBreaker == DefaultTieBreaker) options.TieBreaker = "";
        if (options.ConfigurationChannel == DefaultConfigurationChannel) options.ConfigurationChannel = "";
        // Nor does CONFIG, which the client would otherwise probe on connect (and CONFIG GET can read secrets).
        if (options.CommandMap == CommandMap.Default) options.CommandMap = CommandMap.Create(new HashSet<string> { "CONFIG" }, available: false);
        // How often the client asks each server its role. After a cluster failover it sends writes for the failed primary's
        // slots nowhere (it still takes the promoted replica for a replica) until it next asks: a minute by default, two
        // seconds here (one INFO a server). Kept when set explicitly.
        if (options.ConfigCheckSeconds == DefaultConfigCheckSeconds) options.ConfigCheckSeconds = 2;
        return options;
    }

    /// <summary>
    /// The StackExchange.Redis form. Servers come first there; one after password= is most likely the rest of a password
    /// that holds a comma (the form has no escape for it), which would then be shown as a server: refused, without
    /// quoting it, with the way out.
    /// </summary>
    private static ConfigurationOptions ParseOptions(string configuration)
    {
        var seenPassword = false;
        foreach (var part in configuration.Split(','))
        {
            var token = part.Trim();
            if (token.StartsWith("password=", StringComparison.OrdinalIgnoreCase)) seenPassword = true;
            else if (seenPassword && token.Length > 0 && token.IndexOf('=') < 0)
                throw new ArgumentException(
                    "The Redis configuration string has a server after password=…: if the password holds a comma, write the address " +
                    "as a URL with the comma percent-encoded (redis://user:pass%2Cword@host:6379), or name the servers first.", nameof(configuration));
        }
        return ConfigurationOptions.Parse(configuration);
    }

    internal static string Describe(ConfigurationOptions options)
    {
        var endpoints = string.Join(",", System.Linq.Enumerable.Select(options.EndPoints, Format.ToString));
        if (!string.IsNullOrEmpty(options.ServiceName)) endpoints = $"service {options.ServiceName} via sentinel {endpoints}";
        return options.DefaultDatabase is int db and not 0 ? $"{endpoints}/db{db}" : endpoints;
    }

    private static ConfigurationOptions WithFirstConnectChecked(ConfigurationOptions options)
    {
        var first = options.Clone();
        first.AbortOnConnectFail = true;
        return first;
    }

    /// <summary>An endpoint as users write it: host:port.</summary>
    internal static class Format
    {
        public static string ToString(System.Net.EndPoint endpoint) => endpoint switch
        {
            System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
            System.Net.IPEndPoint ip => ip.ToString(),
            _ => endpoint.ToString() ?? "",
        };
    }
}
