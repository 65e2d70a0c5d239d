namespace Delayed.Core.Codec;

/// <summary>Bounds on what a task may contain, so that hostile or broken queue data cannot exhaust a worker.</summary>
public sealed class PlainDataLimits
{
    /// <summary>Largest serialized task accepted, in bytes (default 4 MiB).</summary>
    public int MaxTaskBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The default of <see cref="MaxDepth"/>: also the bound of every other walk over task data (conversion to and from PowerShell and .NET values).</summary>
    public const int DefaultMaxDepth = 64;

    /// <summary>Deepest nesting of arrays and maps accepted (default 64).</summary>
    public int MaxDepth { get; set; } = DefaultMaxDepth;

    /// <summary>
    /// Most values in one task, counting every array element and every map key and value (default 100,000): with the
    /// size limit it bounds the time any decoding takes.
    /// </summary>
    public int MaxElements { get; set; } = 100_000;

    public static PlainDataLimits Default { get; } = new PlainDataLimits();
}
