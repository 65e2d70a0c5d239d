using System;
using System.Collections;
using System.Collections.Generic;
using System.Security.Cryptography;

namespace Delayed.Core.Codec;

/// <summary>
/// Equality of map keys from task data (strings, integers, booleans) with hashes keyed by a secret drawn once per
/// process: whoever writes a task cannot choose keys that all land in one bucket (hash flooding), which made decoding
/// quadratic. .NET's own hashes of integers are their value, and of strings are unkeyed on .NET Framework.
/// </summary>
public sealed class PlainKeyComparer : IEqualityComparer<object>, IEqualityComparer
{
    private static readonly ulong Secret = DrawSecret();

    private readonly bool _ignoreCase;

    private PlainKeyComparer(bool ignoreCase) => _ignoreCase = ignoreCase;

    /// <summary>Keys as the wire has them: strings compared by ordinal.</summary>
    public static PlainKeyComparer Ordinal { get; } = new(false);

    /// <summary>Strings compared ignoring case, as PowerShell hashtables do.</summary>
    public static PlainKeyComparer OrdinalIgnoreCase { get; } = new(true);

    public new bool Equals(object? x, object? y) => x is string a && y is string b
        ? string.Equals(a, b, _ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal)
        : object.Equals(x, y);

    public int GetHashCode(object value) => value switch
    {
        string text => HashString(text),
        long number => Mix(unchecked((ulong)number)),
        ulong number => Mix(number ^ 0x8000_0000_0000_0000UL),
        int number => Mix(unchecked((ulong)(long)number)),
        bool flag => Mix(flag ? 1UL : 0UL) ^ 0x5bd1e995,
        _ => value.GetHashCode(),
    };

    private int HashString(string text)
    {
        var hash = Secret;
        foreach (var c in text)
        {
            var unit = _ignoreCase ? char.ToUpperInvariant(c) : c;
            hash = (hash ^ unit) * 0x100000001b3UL;
            hash ^= hash >> 29;
        }
        return Mix(hash ^ (ulong)text.Length);
    }

    // SplitMix64's finalizer over the value keyed with the secret: a bijection, so equal hashes need equal keyed values.
    private static int Mix(ulong value)
    {
        var z = value ^ Secret;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        z ^= z >> 31;
        return unchecked((int)z ^ (int)(z >> 32));
    }

    private static ulong DrawSecret()
    {
        var bytes = new byte[8];
        using (var random = RandomNumberGenerator.Create()) random.GetBytes(bytes);
        return BitConverter.ToUInt64(bytes, 0);
    }
}
