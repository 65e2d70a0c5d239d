using System;
using System.Linq;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>
/// How a connection checks the server's TLS certificate and proves its own: a private certificate authority to trust
/// instead of the system's, a client certificate for servers that require one (tls-auth-clients yes), and, only when
/// asked for by name, no check at all. Any of them turns TLS on. The server's name is always checked against its
/// certificate unless the check is skipped.
/// </summary>
public sealed class TlsSettings
{
    /// <param name="certificateAuthorities">
    /// Certificates to trust as issuers of the server's certificate instead of the system's store; the chain the server
    /// presents must lead to one of them. None: the system's store decides.
    /// </param>
    /// <param name="clientCertificate">The certificate, with its private key, offered when the server asks for one.</param>
    /// <param name="skipCertificateCheck">Accept any server certificate, whoever issued it and whatever name it bears.</param>
    public TlsSettings(X509Certificate2Collection? certificateAuthorities = null, X509Certificate2? clientCertificate = null, bool skipCertificateCheck = false)
    {
        if (clientCertificate is { HasPrivateKey: false })
            throw new ArgumentException(
                $"The client certificate '{clientCertificate.Subject}' has no private key, so it cannot prove who is connecting. " +
                "Give a PKCS#12 file (.pfx or .p12) that holds the key, or a certificate object loaded with its key " +
                "(e.g. [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile($cert, $key)).", nameof(clientCertificate));
        CertificateAuthorities = certificateAuthorities is { Count: > 0 } ? certificateAuthorities : null;
        ClientCertificate = clientCertificate;
        SkipCertificateCheck = skipCertificateCheck;
    }

    public X509Certificate2Collection? CertificateAuthorities { get; }

    public X509Certificate2? ClientCertificate { get; }

    public bool SkipCertificateCheck { get; }

    /// <summary>
    /// What tells two settings apart for sharing a connection: the certificates by thumbprint (never a password or a key).
    /// </summary>
    public string Identity =>
        string.Join(";",
            "ca=" + (CertificateAuthorities is null ? "" : string.Join(",", CertificateAuthorities.Cast<X509Certificate2>().Select(c => c.Thumbprint))),
            "client=" + ClientCertificate?.Thumbprint,
            "skip=" + SkipCertificateCheck);

    /// <summary>Reads the certificates of a PEM file (one or more, e.g. a CA bundle) or of a DER file.</summary>
    public static X509Certificate2Collection ReadCertificateAuthorities(string path)
    {
        byte[] content;
        try
        {
            content = System.IO.File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"Cannot read the CA certificate file '{path}': {e.Message}", nameof(path), e);
        }
        var collection = new X509Certificate2Collection();
        const string Begin = "-----BEGIN CERTIFICATE-----", End = "-----END CERTIFICATE-----";
        var text = System.Text.Encoding.ASCII.GetString(content);
        try
        {
            if (text.IndexOf(Begin, StringComparison.Ordinal) < 0)
            {
                collection.Add(new X509Certificate2(content));
                return collection;
            }
            for (var start = text.IndexOf(Begin, StringComparison.Ordinal); start >= 0; start = text.IndexOf(Begin, start, StringComparison.Ordinal))
            {
                var end = text.IndexOf(End, start, StringComparison.Ordinal);
                if (end < 0) throw new FormatException("a certificate has no END line");
                var body = text.Substring(start + Begin.Length, end - start - Begin.Length);
                collection.Add(new X509Certificate2(Convert.FromBase64String(body)));
                start = end + End.Length;
            }
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            throw new ArgumentException(
                $"The CA certificate file '{path}' holds no readable certificate ({e.Message}). Give the CA's certificate in PEM " +
                "(-----BEGIN CERTIFICATE-----, several for a bundle) or DER form, as redis-server's tls-ca-cert-file takes it.", nameof(path), e);
        }
        return collection;
    }

    /// <summary>Reads a client certificate with its private key from a PKCS#12 file (.pfx, .p12).</summary>
    public static X509Certificate2 ReadClientCertificate(string path, System.Security.SecureString? password)
    {
        try
        {
            return password is null ? new X509Certificate2(path) : new X509Certificate2(path, password);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException(
                $"Cannot read the client certificate file '{path}' ({e.Message.Trim()}). Give a PKCS#12 file (.pfx or .p12) with " +
                "the password it was saved with, or a certificate object loaded with its key.", nameof(path), e);
        }
    }

    /// <summary>Turns TLS on in <paramref name="options"/> and sets how certificates are checked and offered.</summary>
    internal void ApplyTo(ConfigurationOptions options)
    {
        options.Ssl = true;
        options.CertificateValidation += IsTrusted;
        if (ClientCertificate is { } client) options.CertificateSelection += (_, _, _, _, _) => client;
    }

    /// <summary>Why the last server certificate was refused, for the connection error; null when none was.</summary>
    internal string? LastRefusal { get; private set; }

    /// <summary>The multiplexer's and the module's own connections' check of the server's certificate (DirectTls).</summary>
    internal bool IsTrusted(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var verdict = SkipCertificateCheck ? null : Judge(certificate, chain, errors);
        if (verdict is not null) LastRefusal = verdict;
        return verdict is null;
    }

    /// <summary>Null when the certificate is trusted, else why not.</summary>
    private string? Judge(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0) return "the server showed no certificate";
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            return $"the server's certificate was issued for another name ({certificate.Subject}) than the host connected to; connect by a name " +
                "the certificate bears, or set sslHost=<that name> in the configuration string";
        if (CertificateAuthorities is null)
            return errors == SslPolicyErrors.None ? null :
                $"the server's certificate, issued by '{certificate.Issuer}', is not trusted by this system's certificate store; give that CA's certificate file";
        return IsIssuedByTrustedAuthority(certificate, chain) ? null :
            $"the server's certificate, issued by '{certificate.Issuer}', does not lead to the CA certificate(s) given";
    }

    private bool IsIssuedByTrustedAuthority(X509Certificate certificate, X509Chain? chain)
    {
        if (CertificateAuthorities is null) return false;
        using var presented = new X509Certificate2(certificate);
        using var custom = new X509Chain();
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // The private CA is unknown to the system; whether the chain ends at it is checked below, and every other
        // fault (expired, wrong usage, bad signature) still fails the build.
        custom.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
        custom.ChainPolicy.ExtraStore.AddRange(CertificateAuthorities);
        if (chain is not null) custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
        if (!custom.Build(presented)) return false;
        var trusted = CertificateAuthorities.Cast<X509Certificate2>().Select(c => c.Thumbprint).ToList();
        // The leaf counts too: trusting a self-signed server certificate by giving it as the CA pins that certificate.
        return custom.ChainElements.Cast<X509ChainElement>().Any(element => trusted.Contains(element.Certificate.Thumbprint));
    }
}
