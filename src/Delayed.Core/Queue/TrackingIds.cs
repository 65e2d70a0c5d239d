using System;
using System.Security.Cryptography;

namespace Delayed.Core.Queue;

/// <summary>Ids of tracked tasks: 16 lowercase hex characters (64 random bits), the length of a schedule entry's id, which a scheduled tracked task's entry uses.</summary>
public static class TrackingIds
{
    public const int Length = ScheduledEntry.IdLength;

    public static string New()
    {
        var bytes = new byte[Length / 2];
        using (var random = RandomNumberGenerator.Create()) random.GetBytes(bytes);
        return BitConverter.ToString(bytes).Replace("-", "").ToLowerInvariant();
    }

    /// <summary>Whether <paramref name="id"/> has the form of a tracked task's id.</summary>
    public static bool IsWellFormed(string? id)
    {
        if (id is null || id.Length != Length) return false;
        foreach (var c in id)
            if (!(c is >= '0' and <= '9' or >= 'a' and <= 'f')) return false;
        return true;
    }
}
