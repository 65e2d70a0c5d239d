using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Delayed.Core.Protocol;

/// <summary>
/// Worker ids: 32 lowercase hex characters from 16 cryptographically random bytes (never in the Python
/// implementation's decimal range), preceded by the queue's hash tag when it has one (docs/protocol.md, Keys of a queue).
/// </summary>
public static class WorkerIds
{
    public static string New(string hashTag = "") => hashTag + RandomHex(16);

    /// <summary>Lowercase hex of <paramref name="byteCount"/> cryptographically random bytes.</summary>
    internal static string RandomHex(int byteCount)
    {
        var bytes = new byte[byteCount];
        using (var random = RandomNumberGenerator.Create()) random.GetBytes(bytes);
        var hex = new StringBuilder(byteCount * 2);
        foreach (var b in bytes) hex.Append(b.ToString("x2", CultureInfo.InvariantCulture));
        return hex.ToString();
    }
}
