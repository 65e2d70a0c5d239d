#nullable enable
using System;
using System.IO;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Delayed.Testing;

/// <summary>
/// Certificates made for one test run, as PEM and PKCS#12 files in a temporary folder (deleted on Dispose): a private
/// CA; a server certificate it issued for 127.0.0.1 and localhost; one it issued for another name; a client
/// certificate it issued; and a second CA that issued nothing the server shows. Shared by xunit and, through
/// Add-Type, by Pester.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public const string ClientPassword = "client-pfx-pass";

    public TestCertificates()
    {
        Directory.CreateDirectory(Folder);
        using var ca = NewAuthority("CN=Delayed Test CA");
        using var other = NewAuthority("CN=Delayed Other CA");
        WritePem(CaFile, ca, null);
        WritePem(OtherCaFile, other, null);
        using (var server = Issue(ca, "CN=127.0.0.1", serverAuth: true, "127.0.0.1", "localhost"))
            WritePem(ServerCertificateFile, server, ServerKeyFile);
        using (var wrongName = Issue(ca, "CN=redis.invalid", serverAuth: true, "redis.invalid"))
            WritePem(WrongNameCertificateFile, wrongName, WrongNameKeyFile);
        using var client = Issue(ca, "CN=delayed-worker", serverAuth: false);
        File.WriteAllBytes(ClientPfxFile, client.Export(X509ContentType.Pfx, ClientPassword));
        using var stranger = Issue(other, "CN=stranger", serverAuth: false);
        File.WriteAllBytes(StrangerPfxFile, stranger.Export(X509ContentType.Pfx, ClientPassword));
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "delayed-tls-" + Guid.NewGuid().ToString("N"));

    public string CaFile => Path.Combine(Folder, "ca.pem");

    public string OtherCaFile => Path.Combine(Folder, "other-ca.pem");

    public string ServerCertificateFile => Path.Combine(Folder, "server.pem");

    public string ServerKeyFile => Path.Combine(Folder, "server.key");

    public string WrongNameCertificateFile => Path.Combine(Folder, "wrong-name.pem");

    public string WrongNameKeyFile => Path.Combine(Folder, "wrong-name.key");

    /// <summary>A client certificate the CA issued, with its key, protected by <see cref="ClientPassword"/>.</summary>
    public string ClientPfxFile => Path.Combine(Folder, "client.pfx");

    /// <summary>A client certificate the other CA issued: a server that trusts only the CA refuses it.</summary>
    public string StrangerPfxFile => Path.Combine(Folder, "stranger.pfx");

    /// <summary>redis-server's TLS options: which certificate it shows, and whether it requires client certificates its CA issued.</summary>
    public string[] ServerArguments(bool wrongName = false, bool requireClientCertificate = false) => new[]
    {
        "--tls-cert-file", wrongName ? WrongNameCertificateFile : ServerCertificateFile,
        "--tls-key-file", wrongName ? WrongNameKeyFile : ServerKeyFile,
        "--tls-ca-cert-file", CaFile,
        "--tls-auth-clients", requireClientCertificate ? "yes" : "no",
    };

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static X509Certificate2 NewAuthority(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 Issue(X509Certificate2 issuer, string subject, bool serverAuth, params string[] names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var usage = serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2";
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid(usage) }, false));
        if (names.Length > 0)
        {
            var alternative = new SubjectAlternativeNameBuilder();
            foreach (var name in names)
            {
                if (IPAddress.TryParse(name, out var address)) alternative.AddIpAddress(address);
                else alternative.AddDnsName(name);
            }
            request.CertificateExtensions.Add(alternative.Build());
        }
        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7f;
        using var issued = request.Create(issuer, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), serial);
        return issued.CopyWithPrivateKey(key);
    }

    private static void WritePem(string certificateFile, X509Certificate2 certificate, string? keyFile)
    {
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem() + "\n");
        if (keyFile is not null) File.WriteAllText(keyFile, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n");
    }
}
