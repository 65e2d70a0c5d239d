using System;
using System.Linq;

namespace Delayed.Tests;

/// <summary>Hex dumps as the protocol's examples write them: space-separated pairs.</summary>
internal static class Hex
{
    public static byte[] Parse(string hex) =>
        hex.Split(new[] { ' ', '\n', '\r' }, StringSplitOptions.RemoveEmptyEntries).Select(b => Convert.ToByte(b, 16)).ToArray();

    public static string Format(ReadOnlySpan<byte> bytes) => string.Join(" ", bytes.ToArray().Select(b => b.ToString("x2")));
}
