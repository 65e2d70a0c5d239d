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
