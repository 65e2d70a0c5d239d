namespace Delayed;

/// <summary>How a worker reports its events.</summary>
public enum LogFormat
{
    /// <summary>PowerShell's streams: verbose and warning messages, error records, objects.</summary>
    Default,

    /// <summary>One JSON line per event on the output stream, for journald or a log shipper.</summary>
    Json,
}
