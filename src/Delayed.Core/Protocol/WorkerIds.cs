using System.Security.Cryptography;
using System.Text;

namespace Delayed.Core.Protocol;

/// <summary>
/// Worker ids: 32 lowercase hex characters from 16 cryptographically random bytes (never in the Python
/// implementation's decimal range, D11), preceded by the queue's hash tag when it has one (PROTOCOL.md 8).
/// </summary>
public static class WorkerIds
{
    public static string New(string hashTag = "")
    {
        var bytes = new byte[16];
        using (var random = RandomNumberGenerator.Create()) random.GetBytes(bytes);
        var id = new StringBuilder(hashTag.Length + 32).Append(hashTag);
        foreach (var b in bytes) id.Append(b.ToString("x2"));
        return id.ToString();
    }
}
