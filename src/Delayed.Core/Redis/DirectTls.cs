using System.IO;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>
/// TLS on the module's own connections (<see cref="DirectConnection"/>) as on the multiplexer's: the server's name as the
/// configuration gives it (sslHost=, else the host connected to), its protocols and revocation check, and the same
/// <see cref="TlsSettings"/> to judge the server's certificate and to offer the client's. Nothing the multiplexer would
/// refuse is accepted here; a handshake that fails leaves the caller on the multiplexer (the connection's rest).
/// </summary>
internal sealed class DirectTls
{
    private readonly ConfigurationOptions _options;
    private readonly TlsSettings? _settings;

    internal DirectTls(ConfigurationOptions options, TlsSettings? settings)
    {
        _options = options;
        _settings = settings;
    }

    /// <summary>The stream over <paramref name="raw"/> once the handshake with <paramref name="endpoint"/> succeeded; it owns <paramref name="raw"/>.</summary>
    /// <exception cref="AuthenticationException">The server's certificate was refused, or the server ended the handshake.</exception>
    internal Stream Authenticate(Stream raw, EndPoint endpoint)
    {
        var client = _settings?.ClientCertificate;
        // Without settings, as the multiplexer without callbacks: the system's store decides, and the name must match. The
        // client certificate is offered whenever the server asks, as the multiplexer's selection callback does.
        var secured = new SslStream(raw, leaveInnerStreamOpen: false, _settings is null ? null : _settings.IsTrusted,
            client is null ? null : (_, _, _, _, _) => client);
        try
        {
            secured.AuthenticateAsClient(string.IsNullOrEmpty(_options.SslHost) ? HostOf(endpoint) : _options.SslHost,
                null, _options.SslProtocols ?? SslProtocols.None,
                _options.CheckCertificateRevocation);
            return secured;
        }
        catch
        {
            secured.Dispose();
            throw;
        }
    }

    private static string HostOf(EndPoint endpoint) => endpoint switch
    {
        DnsEndPoint named => named.Host,
        IPEndPoint address => address.Address.ToString(),
        _ => endpoint.ToString() ?? "",
    };
}
