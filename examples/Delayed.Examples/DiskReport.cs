namespace Delayed.Examples;

/// <summary>What example:disk returns: free and total bytes where a path lives.</summary>
public sealed class DiskReport
{
    public DiskReport(string path, long freeBytes, long totalBytes)
    {
        Path = path;
        FreeBytes = freeBytes;
        TotalBytes = totalBytes;
    }

    public string Path { get; }

    public long FreeBytes { get; }

    public long TotalBytes { get; }
}
