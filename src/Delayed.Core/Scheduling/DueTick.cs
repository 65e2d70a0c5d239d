namespace Delayed.Core.Scheduling;

/// <summary>A recurring schedule whose tick is due: its name, the tick (unix ms) and its definition as read.</summary>
public sealed class DueTick
{
    public DueTick(string name, long tickMs, byte[] definition)
    {
        Name = name;
        TickMs = tickMs;
        Definition = definition;
    }

    public string Name { get; }

    public long TickMs { get; }

    public byte[] Definition { get; }
}
