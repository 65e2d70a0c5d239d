using System;
using System.Management.Automation;
using Delayed.Core.Worker;

namespace Delayed.PowerShell.Handlers;

/// <summary>
/// Where a handler's warnings, errors, verbose, debug and information records (Write-Host's among them) go while
/// its task runs: to the worker, which writes them to its own streams or as log lines, in every run mode alike
/// (a foreground handler's too: otherwise they would reach the session past the worker, so that -WarningVariable,
/// -WarningAction and -LogFormat Json missed them).
/// </summary>
internal sealed class HandlerStreams
{
    private volatile Action<TaskContext, object?>? _target;

    /// <summary>Sets who receives the records; until then (no task runs before the worker does) they are dropped.</summary>
    public void ConnectTo(Action<TaskContext, object?> target) => _target = target;

    /// <summary>What one run of a handler writes: each item to the worker, and kept for a tracked task's caller.</summary>
    public RunStreams Begin(TaskContext context) => new(this, context);

    /// <summary>The streams of one handler run; disposing it records a tracked task's output on its context.</summary>
    internal sealed class RunStreams : IDisposable
    {
        private readonly HandlerStreams _streams;
        private readonly TaskContext _context;
        private readonly Conversion.TaskOutput? _kept;

        public RunStreams(HandlerStreams streams, TaskContext context)
        {
            _streams = streams;
            _context = context;
            _kept = context.TrackingId is null ? null : new Conversion.TaskOutput();
        }

        /// <summary>One item the handler wrote, from the thread it runs on.</summary>
        public void Add(object? item)
        {
            _streams.Write(_context, item);
            _kept?.Add(item);
        }

        public void Dispose()
        {
            if (_kept is not null) _context.Output = _kept.ToBytes();
        }
    }

    /// <summary>One record or output object of the handler running <paramref name="context"/>; callable from any thread.</summary>
    public void Write(TaskContext context, object? item) =>
        _target?.Invoke(context, item is PSObject { BaseObject: not PSCustomObject } wrapped ? wrapped.BaseObject : item);
}
