namespace Delayed;

/// <summary>The two task encodings: Python-shaped (positional and named arguments, retry) or Go-shaped (one payload).</summary>
public enum TaskFormat
{
    Python,
    Go,
}
