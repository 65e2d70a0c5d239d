using System;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Core.Worker;
using Delayed.Testing;
using Xunit;

namespace Delayed.Tests;

/// <summary>Certificates made for this run and three TLS-only servers: one plain, one showing a wrong name, one requiring client certificates.</summary>
public sealed class TlsFixture : IDisposable
{
    public TlsFixture()
    {
        Certificates = new TestCertificates();
        Server = LocalRedisServer.StartTls(Certificates.ServerArguments());
        WrongNameServer = LocalRedisServer.StartTls(Certificates.ServerArguments(wrongName: true));
        ClientCertificateServer = LocalRedisServer.StartTls(Certificates.ServerArguments(requireClientCertificate: true));
    }

    public TestCertificates Certificates { get; }

    public LocalRedisServer Server { get; }

    public LocalRedisServer WrongNameServer { get; }

    public LocalRedisServer ClientCertificateServer { get; }

    public void Dispose()
    {
        Server.Dispose();
        WrongNameServer.Dispose();
        ClientCertificateServer.Dispose();
        Certificates.Dispose();
    }
}

/// <summary>TLS with a private CA and client certificates: trusted only as configured, the name always checked unless the check is skipped by name.</summary>
public sealed class TlsTests : IClassFixture<TlsFixture>
{
    private readonly TlsFixture _tls;

    public TlsTests(TlsFixture tls) => _tls = tls;

    private TestCertificates Certificates => _tls.Certificates;

    private TlsSettings TrustingTheCa(X509Certificate2? client = null) =>
        new(TlsSettings.ReadCertificateAuthorities(Certificates.CaFile), client);

    [Fact]
    public async Task AServerWhoseCertificateTheGivenCaIssuedIsTrusted_AndAWorkerRunsTasksOverIt()
    {
        using var connection = await DelayedConnection.ConnectAsync(_tls.Server.Configuration, TrustingTheCa());
        await RunOneTaskAsync(connection);
    }

    [Fact]
    public async Task AServerWhoseCertificateAnotherCaIssuedIsRefused_AndTheErrorSaysItIsTheCertificate()
    {
        var other = new TlsSettings(TlsSettings.ReadCertificateAuthorities(Certificates.OtherCaFile));
        var e = await Assert.ThrowsAsync<DelayedConnectionException>(() => DelayedConnection.ConnectAsync(_tls.Server.Configuration, other));
        Assert.Contains("does not lead to the CA certificate(s) given", e.Message);
        Assert.Contains(_tls.Server.Configuration, e.Message);
    }

    [Fact]
    public async Task WithoutAGivenCaTheSystemStoreDecides_AndAPrivateCaIsNotTrusted()
    {
        await Assert.ThrowsAsync<DelayedConnectionException>(() => DelayedConnection.ConnectAsync(_tls.Server.Configuration + ",ssl=true"));
        var e = await Assert.ThrowsAsync<DelayedConnectionException>(() => DelayedConnection.ConnectAsync(_tls.Server.Configuration, new TlsSettings()));
        Assert.Contains("is not trusted by this system's certificate store", e.Message);
    }

    [Fact]
    public async Task ACertificateForAnotherNameIsRefusedEvenFromTheTrustedCa()
    {
        var e = await Assert.ThrowsAsync<DelayedConnectionException>(() => DelayedConnection.ConnectAsync(_tls.WrongNameServer.Configuration, TrustingTheCa()));
        Assert.Contains("issued for another name (CN=redis.invalid)", e.Message);
    }

    [Fact]
    public async Task SkippingTheCheckByNameAcceptsAnyCertificate()
    {
        using var connection = await DelayedConnection.ConnectAsync(_tls.WrongNameServer.Configuration, new TlsSettings(skipCertificateCheck: true));
        await RunOneTaskAsync(connection);
    }

    [Fact]
    public async Task AServerThatRequiresAClientCertificateTakesOnlyOneItsCaIssued()
    {
        var none = await Assert.ThrowsAsync<DelayedConnectionException>(() => DelayedConnection.ConnectAsync(_tls.ClientCertificateServer.Configuration + ",connectTimeout=2000", TrustingTheCa()));
        Assert.Contains("requires a client certificate", none.Message);

        using var stranger = TlsSettings.ReadClientCertificate(Certificates.StrangerPfxFile, Secure(TestCertificates.ClientPassword));
        await Assert.ThrowsAsync<DelayedConnectionException>(() => DelayedConnection.ConnectAsync(_tls.ClientCertificateServer.Configuration + ",connectTimeout=2000", TrustingTheCa(stranger)));

        using var client = TlsSettings.ReadClientCertificate(Certificates.ClientPfxFile, Secure(TestCertificates.ClientPassword));
        using var connection = await DelayedConnection.ConnectAsync(_tls.ClientCertificateServer.Configuration, TrustingTheCa(client));
        await RunOneTaskAsync(connection); // the worker's own blocking connections offer the certificate too
    }

    [Fact]
    public async Task OverTlsTheWorkersSlotsAndTheCmdletsEnqueueUseTheirOwnConnections_WithTheClientCertificateWhereOneIsRequired()
    {
        using var client = TlsSettings.ReadClientCertificate(Certificates.ClientPfxFile, Secure(TestCertificates.ClientPassword));
        foreach (var (server, settings) in new[] { (_tls.Server, TrustingTheCa()), (_tls.ClientCertificateServer, TrustingTheCa(client)) })
        {
            using var connection = await DelayedConnection.ConnectAsync(server.Configuration, settings);
            string? ClientNamed(string name) => RedisFixture.ClientNamed(connection.Database, name);
            var queue = new DelayedQueue(connection, "tls-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            // An enqueuer on a thread of its own (Add-DelayedTask's pipeline) appends through the enqueue connection: its
            // call is complete when it returns, and the server lists that connection as the one that ran the transaction.
            System.Threading.Tasks.Task? pending = null;
            var thread = new System.Threading.Thread(() => pending = queue.EnqueueAsync(TaskEncoder.EncodePython("m:probe", null, null, 0)));
            thread.Start();
            thread.Join();
            Assert.True(pending!.IsCompleted, "over TLS, an enqueuer on a thread of its own was handed a pending task: its call went through the multiplexer");
            await pending;
            Assert.Contains(" cmd=exec ", ClientNamed(DelayedConnection.EnqueueClientName) ?? "(no such client)", StringComparison.Ordinal);
            // A busy slot claims on a connection of its own, named as its worker id, whose thread starts the task (the probe
            // comes after other tasks, so that its claim is a busy one).
            await queue.EnqueueAsync(Enumerable.Range(0, 20).Select(i => TaskEncoder.EncodePython("m:noop", new object[] { i }, null, 0)).ToArray());
            await queue.EnqueueAsync(TaskEncoder.EncodePython("m:probe", null, null, 0));
            (string? Client, string? Thread) seen = default;
            var registry = new DelegateRegistry().Add("m:noop", _ => { })
                .Add("m:probe", c => seen = (ClientNamed(c.WorkerId), System.Threading.Thread.CurrentThread.Name));
            var summary = await new DelayedWorker(queue, registry, new WorkerOptions { StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync();
            Assert.Equal(22, summary.Succeeded);
            Assert.Contains(" cmd=evalsha ", seen.Client ?? "(no such client)", StringComparison.Ordinal);
            Assert.Equal("Delayed worker slot 1 claims", seen.Thread);
        }
    }

    [Fact]
    public async Task OverTlsEnqueuersOnThePoolAppendThroughThePipelinedConnection_OneAfterAnotherAndFannedOut_AllInOrder()
    {
        using var connection = await DelayedConnection.ConnectAsync(_tls.Server.Configuration, TrustingTheCa());
        var queue = new DelayedQueue(connection, "tls-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        var (onReader, sent) = await System.Threading.Tasks.Task.Run(async () =>
        {
            // The code after an await goes on on the thread that read the reply (the pipelined connection's reader).
            var count = 0;
            while (!PipelinedEnqueueConnection.OnReaderThread && count < 100) await queue.EnqueueAsync(PipelinedEnqueueTests.Task(count++));
            var reached = PipelinedEnqueueConnection.OnReaderThread;
            for (var i = 0; i < 50; i++) await queue.EnqueueAsync(PipelinedEnqueueTests.Task(count++));
            return (reached, count);
        });
        Assert.True(onReader, "over TLS, the code after an enqueue on the pool never continued on the pipelined connection's reader");
        // Writers on many pool threads while the reader reads: the TLS stream written by one (under the connection's lock)
        // and read by the other at once.
        var many = await System.Threading.Tasks.Task.Run(() => Enumerable.Range(sent, 5_000).Select(i => queue.EnqueueAsync(PipelinedEnqueueTests.Task(i))).ToArray());
        await System.Threading.Tasks.Task.WhenAll(many).WaitAsync(TimeSpan.FromSeconds(30));
        await PipelinedEnqueueTests.AssertQueueHolds(connection.Database, queue, sent + 5_000);
        Assert.Contains($" name={DelayedConnection.PipelinedEnqueueClientName} ", connection.Database.Execute("CLIENT", "LIST").ToString()!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverTlsAnIdleSlotWaitsOnItsOwnConnection_AndTheTaskThatWakesItStartsThere()
    {
        using var connection = await DelayedConnection.ConnectAsync(_tls.Server.Configuration, TrustingTheCa());
        string? ClientNamed(string name) => RedisFixture.ClientNamed(connection.Database, name);
        var queue = new DelayedQueue(connection, "tls-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        var ran = new System.Collections.Concurrent.ConcurrentQueue<string?>();
        using var stop = new System.Threading.CancellationTokenSource();
        // Waits of 2 s: the wait's reply is read through TLS after poll() has waited past the client's usual timeout.
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:probe", _ => ran.Enqueue(System.Threading.Thread.CurrentThread.Name)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(2) });
        long Waits() => long.Parse(connection.Database.Execute("INFO", "commandstats").ToString()!.Split('\n')
            .Where(line => line.StartsWith("cmdstat_brpoplpush:", StringComparison.Ordinal))
            .Select(line => line.Split(':', ',')[1].Substring("calls=".Length)).DefaultIfEmpty("0").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var run = worker.RunAsync(stop.Token);
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var waits = Waits();
                // The second time, only once a wait has timed out and the next has begun on the same connection.
                await Eventually.True(() => worker.WorkerIds is [var id] && ClientNamed(id) is { } line && line.Contains(" cmd=brpoplpush ", StringComparison.Ordinal)
                    && (i == 0 || Waits() >= waits + 2), "the idle slot to block in its wait on its own connection", 15);
                await queue.EnqueueAsync(TaskEncoder.EncodePython("m:probe", new object[] { i }, null, 0));
                await Eventually.True(() => ran.Count == i + 1, "the task to run");
            }
        }
        finally
        {
            stop.Cancel();
            await run;
        }
        Assert.All(ran, thread => Assert.Equal("Delayed worker slot 1 claims", thread));
    }

    [Fact]
    public void TheModulesOwnConnectionsRefuseWhatTheMultiplexerRefuses_AndAcceptWhatItAccepts()
    {
        foreach (var (server, settings, why) in new[]
        {
            (_tls.Server, new TlsSettings(TlsSettings.ReadCertificateAuthorities(Certificates.OtherCaFile)), "a certificate from another CA"),
            (_tls.Server, new TlsSettings(), "a private CA the system's store does not know"),
            (_tls.WrongNameServer, TrustingTheCa(), "a certificate for another name"),
        })
        {
            var options = DelayedConnection.Parse(server.Configuration);
            settings.ApplyTo(options);
            var e = Assert.Throws<DirectConnectionLostException>(() => DirectSocket.Open(options.EndPoints[0], options, null, new DirectTls(options, settings)));
            Assert.True(e.GetBaseException() is System.Security.Authentication.AuthenticationException, $"{why} was not refused by the handshake: {e}");
        }
        var trusting = TrustingTheCa();
        var accepted = DelayedConnection.Parse(_tls.Server.Configuration);
        trusting.ApplyTo(accepted);
        var (socket, _, stream, _) = DirectSocket.Open(accepted.EndPoints[0], accepted, null, new DirectTls(accepted, trusting));
        using (socket)
        using (stream)
        {
            RespWire.Write(stream, "PING");
            stream.Flush();
            Assert.Equal("PONG", RespWire.Read(stream, 0, 1024)?.ToString());
        }
    }

    [Fact]
    public void UnreadableFilesAreRefusedWithWhatToGive()
    {
        var missing = Assert.Throws<ArgumentException>(() => TlsSettings.ReadCertificateAuthorities(System.IO.Path.Combine(Certificates.Folder, "none.pem")));
        Assert.Contains("Cannot read the CA certificate file", missing.Message);
        var notACertificate = Assert.Throws<ArgumentException>(() => TlsSettings.ReadCertificateAuthorities(Certificates.ServerKeyFile));
        Assert.Contains("PEM", notACertificate.Message);
        var wrongPassword = Assert.Throws<ArgumentException>(() => TlsSettings.ReadClientCertificate(Certificates.ClientPfxFile, Secure("wrong")));
        Assert.Contains("the password it was saved with", wrongPassword.Message);
        Assert.DoesNotContain(TestCertificates.ClientPassword, wrongPassword.Message);
        using var withoutKey = X509CertificateLoader.LoadCertificateFromFile(Certificates.ServerCertificateFile);
        var noKey = Assert.Throws<ArgumentException>(() => new TlsSettings(clientCertificate: withoutKey));
        Assert.Contains("no private key", noKey.Message);
    }

    private static async Task RunOneTaskAsync(DelayedConnection connection)
    {
        var queue = new DelayedQueue(connection, "tls-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:f", new object[] { 42 }, null, 0));
        long? seen = null;
        var summary = await new DelayedWorker(queue, new DelegateRegistry().Add("m:f", c => seen = (long)c.Task.Arguments[0]!), new WorkerOptions
        {
            StopWhenEmpty = true,
            DequeueTimeout = TimeSpan.FromMilliseconds(100),
        }).RunAsync();
        Assert.Equal((1, 42L), (summary.Succeeded, seen));
    }

    private static System.Security.SecureString Secure(string text)
    {
        var secure = new System.Security.SecureString();
        foreach (var c in text) secure.AppendChar(c);
        secure.MakeReadOnly();
        return secure;
    }
}
