using System;
using System.Diagnostics.CodeAnalysis;
using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>
/// The URL form of a Redis address that rq, Sidekiq, BullMQ and asynq users write:
/// redis://[user[:password]@]host[:port][/database], or rediss:// for TLS. User and password may be
/// percent-encoded (so a password may hold a comma or an @). Errors never quote the password.
/// </summary>
internal static class RedisUrl
{
    public static bool IsUrl(string text) =>
        text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase);

    public static ConfigurationOptions Parse(string text)
    {
        var tls = text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase);
        var rest = text.Substring(tls ? 9 : 8);
        string? user = null, password = null;
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            var credentials = rest.Substring(0, at);
            rest = rest.Substring(at + 1);
            var colon = credentials.IndexOf(':');
            user = Decode(colon < 0 ? credentials : credentials.Substring(0, colon), "user name");
            password = colon < 0 ? null : Decode(credentials.Substring(colon + 1), "password");
            if (colon < 0)
            {
                // redis://secret@host: the one credential is a password, as Redis before 6 knew no users.
                password = user;
                user = null;
            }
        }
        var query = rest.IndexOf('?');
        if (query >= 0)
            throw Invalid("takes no query options (?...); give TLS as rediss:// and other options in the StackExchange.Redis form");
        var slash = rest.IndexOf('/');
        var hostPort = slash < 0 ? rest : rest.Substring(0, slash);
        var database = slash < 0 ? "" : rest.Substring(slash + 1);
        var (host, port) = SplitHostPort(hostPort);
        var options = new ConfigurationOptions { Ssl = tls, User = string.IsNullOrEmpty(user) ? null : user, Password = password };
        options.EndPoints.Add(host, port);
        if (tls) options.SslHost = host;
        if (database.Length > 0)
        {
            if (!int.TryParse(database, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var db))
                throw Invalid($"has a database '{database}' that is not a number");
            options.DefaultDatabase = db;
        }
        return options;
    }

    private static (string Host, int Port) SplitHostPort(string hostPort)
    {
        if (hostPort.Length == 0) throw Invalid("names no host");
        string host;
        var portText = "";
        if (hostPort.StartsWith("[", StringComparison.Ordinal))
        {
            var close = hostPort.IndexOf(']');
            if (close < 0) throw Invalid("has an IPv6 address without its closing ]");
            host = hostPort.Substring(1, close - 1);
            if (close + 1 < hostPort.Length)
            {
                if (hostPort[close + 1] != ':') throw Invalid("has something other than :port after the IPv6 address");
                portText = hostPort.Substring(close + 2);
            }
        }
        else
        {
            var colon = hostPort.LastIndexOf(':');
            host = colon < 0 ? hostPort : hostPort.Substring(0, colon);
            portText = colon < 0 ? "" : hostPort.Substring(colon + 1);
        }
        if (host.Length == 0) throw Invalid("names no host");
        if (portText.Length == 0) return (host, 6379);
        if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw Invalid($"has a port '{portText}' that is not a number from 1 to 65535");
        return (host, port);
    }

    private static string Decode(string text, string what)
    {
        try
        {
            return Uri.UnescapeDataString(text);
        }
        catch (UriFormatException)
        {
            throw Invalid($"has a {what} that is not valid percent-encoding");
        }
    }

    [SuppressMessage("Usage", "CA2208", Justification = "The parameter named is the caller's: the configuration the URL came in.")]
    private static ArgumentException Invalid(string what) =>
        new($"The Redis URL {what}. Write redis://[user[:password]@]host[:port][/database] (rediss:// for TLS), " +
            "with any @ : / % or , in the user name or password percent-encoded (%40 %3A %2F %25 %2C).", "configuration");
}
