using System;
using System.Collections.Generic;

namespace Delayed.Core.Telemetry;

/// <summary>
/// How long the task at the head of a queue has waited at least, from repeated looks at both ends of the list. The wire
/// format carries no enqueue time, so it is observed: a task seen at the tail at some time has waited since then at
/// least, and when it reaches the head its age is known to within the time between two looks. A task already waiting
/// when the looks began counts from the first look that saw it at the head, so the figure is a lower bound until the
/// tasks that were there before have gone. Tasks of equal bytes cannot be told apart: while they follow one another at
/// the head without the queue emptying, the age is that of the first of them.
/// </summary>
internal sealed class WaitingAge
{
    /// <summary>Most tail sightings kept (an hour of looks once a second); the oldest go first.</summary>
    internal const int MaxSightings = 3600;

    /// <summary>Tasks seen at the tail, in order, with when first seen there; the newest last.</summary>
    private readonly LinkedList<(ulong Task, DateTimeOffset Since)> _sightings = new();
    private ulong? _head;
    private DateTimeOffset _headSince;

    /// <summary>Takes one look at the queue and returns the head's waiting time, or zero when the queue is empty.</summary>
    /// <param name="length">How many tasks wait.</param>
    /// <param name="head">The bytes at the head (the next to be taken), or null.</param>
    /// <param name="tail">The bytes at the tail (the newest), or null.</param>
    /// <param name="now">The time of the look.</param>
    public TimeSpan Observe(long length, byte[]? head, byte[]? tail, DateTimeOffset now)
    {
        if (length == 0 || head is null)
        {
            _head = null;
            _sightings.Clear();
            return TimeSpan.Zero;
        }
        if (tail is not null)
        {
            var newest = Fingerprint(tail);
            if (_sightings.Last is not { } last || last.Value.Task != newest)
            {
                _sightings.AddLast((newest, now));
                if (_sightings.Count > MaxSightings) _sightings.RemoveFirst();
            }
        }
        var task = Fingerprint(head);
        if (_head != task)
        {
            _head = task;
            _headSince = now;
            // The latest sighting of these bytes: an earlier one may have been another task of equal bytes, already taken.
            for (var node = _sightings.Last; node is not null; node = node.Previous)
            {
                if (node.Value.Task != task) continue;
                _headSince = node.Value.Since;
                // The tasks seen before it were ahead of it in the list, so they are gone.
                while (_sightings.First != node) _sightings.RemoveFirst();
                break;
            }
        }
        return now > _headSince ? now - _headSince : TimeSpan.Zero;
    }

    /// <summary>FNV-1a over the bytes: telling the ends of one list apart from one look to the next needs no more.</summary>
    private static ulong Fingerprint(byte[] task)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in task)
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return hash;
    }
}
