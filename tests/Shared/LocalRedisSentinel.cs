#nullable enable
using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;

namespace Delayed.Testing;

/// <summary>
/// A throwaway Redis Sentinel setup on 127.0.0.1: a primary and a replica (each a <see cref="LocalRedisServer"/>)
/// watched by one redis-sentinel under the service name <see cref="ServiceName"/>, which fails over when asked
/// (SENTINEL FAILOVER) or a second after the primary stops answering. Stopped on Dispose.
/// </summary>
public sealed class LocalRedisSentinel : IDisposable
{
    public const string ServiceName = "delayed-primary";

    private readonly string _directory;
    private readonly Process _sentinel;

    private LocalRedisSentinel(LocalRedisServer first, LocalRedisServer second, string directory, int sentinelPort, Process sentinel)
    {
        _directory = directory;
        Servers = new[] { first, second };
        SentinelPort = sentinelPort;
        _sentinel = sentinel;
    }

    public LocalRedisServer[] Servers { get; }

    public int SentinelPort { get; }

    /// <summary>The sentinel's address: what a client is given, with the service name.</summary>
    public string SentinelConfiguration => $"127.0.0.1:{SentinelPort}";

    public static async Task<LocalRedisSentinel> StartAsync()
    {
        var first = new LocalRedisServer();
        var second = new LocalRedisServer("--replicaof", "127.0.0.1", first.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var directory = Path.Combine(Path.GetTempPath(), "delayed-sentinel-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var port = LocalRedisServer.FreePort();
        var configuration = Path.Combine(directory, "sentinel.conf");
        // Sentinel rewrites its file as it learns: it must be its own, writable copy.
        File.WriteAllText(configuration, string.Join("\n",
            $"port {port}",
            "bind 127.0.0.1",
            $"dir {directory}",
            $"sentinel monitor {ServiceName} 127.0.0.1 {first.Port} 1",
            $"sentinel down-after-milliseconds {ServiceName} 1000",
            $"sentinel failover-timeout {ServiceName} 10000",
            "") + "\n");
        var executable = Environment.GetEnvironmentVariable("DELAYED_REDIS_SENTINEL") ?? "redis-sentinel";
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(configuration);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("redis-sentinel did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            first.Dispose();
            second.Dispose();
            throw new InvalidOperationException("redis-sentinel was not found on PATH. Install it (Debian: apt-get install redis-sentinel) or set DELAYED_REDIS_SENTINEL.", e);
        }
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var setup = new LocalRedisSentinel(first, second, directory, port, process);
        try
        {
            await setup.WaitUntilAsync(async () => await setup.SentinelSeesReplicaAsync().ConfigureAwait(false), "the sentinel to see the replica").ConfigureAwait(false);
            return setup;
        }
        catch
        {
            setup.Dispose();
            throw;
        }
    }

    /// <summary>The port of the server the sentinel names as primary now.</summary>
    public async Task<int> PrimaryPortAsync()
    {
        var reply = await CliAsync(SentinelPort, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", ServiceName).ConfigureAwait(false);
        return int.Parse(reply.Split('\n')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until the replica has every write the primary took (WAIT), so that a failover loses none.</summary>
    public async Task WaitForReplicaAsync()
    {
        var primary = await PrimaryPortAsync().ConfigureAwait(false);
        var acknowledged = await CliAsync(primary, "WAIT", "1", "10000").ConfigureAwait(false);
        if (acknowledged.Trim() != "1") throw new TimeoutException("The replica did not acknowledge the primary's writes within 10 seconds.");
    }

    /// <summary>Asks the sentinel to fail over now and waits until it names the other server as primary and that server acts as one.</summary>
    public async Task FailOverAsync()
    {
        var before = await PrimaryPortAsync().ConfigureAwait(false);
        await CliAsync(SentinelPort, "SENTINEL", "FAILOVER", ServiceName).ConfigureAwait(false);
        await WaitUntilAsync(async () => await PrimaryPortAsync().ConfigureAwait(false) != before, "the sentinel to name a new primary").ConfigureAwait(false);
        var after = await PrimaryPortAsync().ConfigureAwait(false);
        await WaitUntilAsync(async () => await ReplicationFieldAsync(after, "role").ConfigureAwait(false) == "master", "the new primary to take writes").ConfigureAwait(false);
    }

    public void Dispose()
    {
        try
        {
            if (!_sentinel.HasExited)
            {
                _sentinel.Kill();
                _sentinel.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _sentinel.Dispose();
        foreach (var server in Servers) server.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<bool> SentinelSeesReplicaAsync()
    {
        var replicas = await CliAsync(SentinelPort, "SENTINEL", "REPLICAS", ServiceName).ConfigureAwait(false);
        return replicas.Contains(Servers[1].Port.ToString(System.Globalization.CultureInfo.InvariantCulture)) &&
            await ReplicationFieldAsync(Servers[1].Port, "master_link_status").ConfigureAwait(false) == "up";
    }

    private static async Task<string?> ReplicationFieldAsync(int port, string field)
    {
        foreach (var line in (await CliAsync(port, "INFO", "replication").ConfigureAwait(false)).Split('\n'))
            if (line.StartsWith(field + ":", StringComparison.Ordinal)) return line.Substring(field.Length + 1).Trim();
        return null;
    }

    /// <summary>
    /// One command through redis-cli (shipped with redis-server), its reply as text, "" when the server does not answer
    /// yet. Not through a Redis client library, so that Pester compiles this file with Add-Type as it is.
    /// </summary>
    private static async Task<string> CliAsync(int port, params string[] command)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DELAYED_REDIS_CLI") ?? "redis-cli")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture) }) start.ArgumentList.Add(argument);
        foreach (var argument in command) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("redis-cli did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        await error.ConfigureAwait(false);
        return process.ExitCode == 0 ? (await output.ConfigureAwait(false)).Replace("\r", "") : "";
    }

    private async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition().ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited 30 seconds for {what}.");
            await Task.Delay(100).ConfigureAwait(false);
        }
    }
}
