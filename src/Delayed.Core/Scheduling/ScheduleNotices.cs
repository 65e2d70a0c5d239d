using System;
using System.Threading;

namespace Delayed.Core.Scheduling;

/// <summary>
/// What this process scheduled through one connection, told to the promoters of this process that serve those queues,
/// so that a task due sooner than a promoter's next look (up to <see cref="SchedulePromoter.Interval"/> away) is promoted
/// when due: a worker's own retries (their first back-off is under a second) and a session's `Add-DelayedTask -Delay` beside
/// its own worker. A notice is a hint; the promoter's pass reads what is due from the server, so one that comes early or
/// concerns a task already moved costs at most one more pass. Promoters in other processes learn of the task at their next look.
/// </summary>
internal sealed class ScheduleNotices
{
    private readonly object _gate = new();
    private (string Queue, Action<TimeSpan> Listener)[] _listeners = Array.Empty<(string, Action<TimeSpan>)>();

    /// <summary>Tells <paramref name="listener"/>, until disposed, how soon each task scheduled on <paramref name="queue"/> falls due.</summary>
    public IDisposable Listen(string queue, Action<TimeSpan> listener)
    {
        lock (_gate)
        {
            var listeners = new (string, Action<TimeSpan>)[_listeners.Length + 1];
            _listeners.CopyTo(listeners, 0);
            listeners[_listeners.Length] = (queue, listener);
            _listeners = listeners;
        }
        return new Subscription(this, listener);
    }

    /// <summary>A task of <paramref name="queue"/> was scheduled (the server has it) and falls due in about <paramref name="dueIn"/>.</summary>
    public void Scheduled(string queue, TimeSpan dueIn)
    {
        // Read without the lock: an enqueuer pays one array read when no promoter of this process listens.
        foreach (var (name, listener) in Volatile.Read(ref _listeners))
            if (string.Equals(name, queue, StringComparison.Ordinal)) listener(dueIn);
    }

    private void Remove(Action<TimeSpan> listener)
    {
        lock (_gate) _listeners = Array.FindAll(_listeners, l => !ReferenceEquals(l.Listener, listener));
    }

    private sealed class Subscription : IDisposable
    {
        private readonly ScheduleNotices _notices;
        private readonly Action<TimeSpan> _listener;

        public Subscription(ScheduleNotices notices, Action<TimeSpan> listener)
        {
            _notices = notices;
            _listener = listener;
        }

        public void Dispose() => _notices.Remove(_listener);
    }
}
