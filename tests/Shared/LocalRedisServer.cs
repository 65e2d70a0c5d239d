using System;
using System.Globalization;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace Delayed.Testing;

/// <summary>
/// A throwaway redis-server on 127.0.0.1 and a free port, with no persistence, stopped on Dispose.
/// Tests and the benchmark never rely on a server that was already running.
/// </summary>
public sealed class LocalRedisServer : IDisposable
{
    private readonly string[] _extraArguments;
    private readonly bool _tlsOnly;
    private Process _process;

    /// <param name="extraArguments">More redis-server options, e.g. for a cluster node.</param>
    public LocalRedisServer(params string[] extraArguments)
        : this(extraArguments, tlsOnly: false)
    {
    }

    private LocalRedisServer(string[] extraArguments, bool tlsOnly)
    {
        Port = FreePort();
        _extraArguments = extraArguments;
        _tlsOnly = tlsOnly;
        _process = StartProcess();
    }

    /// <summary>A server that speaks only TLS on <see cref="Port"/>, with its --tls-* options.</summary>
    public static LocalRedisServer StartTls(params string[] tlsArguments) => new(tlsArguments, tlsOnly: true);

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>Kills the server (its data goes with it) and, after <paramref name="downtime"/>, starts a new one on the same port.</summary>
    public void Restart(TimeSpan downtime)
    {
        Stop();
        Thread.Sleep(downtime);
        _process = StartProcess();
    }

    private string _directory = "";

    public void Dispose() => Stop();

    private Process StartProcess()
    {
        var executable = Environment.GetEnvironmentVariable("DELAYED_REDIS_SERVER") ?? "redis-server";
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var port = _tlsOnly ? new[] { "--port", "0", "--tls-port", Port.ToString(CultureInfo.InvariantCulture) } : new[] { "--port", Port.ToString(CultureInfo.InvariantCulture) };
        // A directory of its own: a replica writes the RDB of its full sync there, and no later server may load it.
        _directory = Directory.CreateTempSubdirectory("delayed-redis-").FullName;
        foreach (var argument in port.Concat(new[] { "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning", "--dir", _directory }).Concat(_extraArguments))
            start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server was not found on PATH. Install it (Debian: apt-get install redis-server) or set DELAYED_REDIS_SERVER.", e);
        }
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        WaitUntilListening(process);
        return process;
    }

    private void Stop()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void WaitUntilListening(Process process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"redis-server exited with code {process.ExitCode} on start.");
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                if (_tlsOnly) return; // redis-server listens once it is ready; a PING would need a TLS handshake
                using var stream = client.GetStream();
                var ping = "*1\r\n$4\r\nPING\r\n"u8.ToArray();
                stream.Write(ping, 0, ping.Length);
                var reply = new byte[7];
                if (stream.Read(reply, 0, reply.Length) > 0 && reply[0] == (byte)'+') return;
            }
            catch (SocketException)
            {
            }
            catch (IOException)
            {
            }
            Thread.Sleep(50);
        }
        throw new TimeoutException("redis-server did not answer PING within 10 seconds.");
    }

    /// <summary>A port on 127.0.0.1 that nothing listens on now.</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
