using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace Delayed.Core.Worker;

/// <summary>
/// One slot's own thread for starting handler calls. A handler's synchronous part (all of a synchronous .NET
/// method) runs here, so a handler that blocks holds this thread and never a thread-pool thread: the Redis
/// client reads its replies and the keep-alive loop runs on the thread pool, and with a few cores a pool
/// starved by blocked handlers would delay both by seconds (Redis timeouts, liveness keys at risk).
/// </summary>
/// <remarks>The thread starts with the first call: a slot whose handlers never need it (those that dispatch themselves,
/// as a foreground worker's scriptblocks on the pipeline thread) has none.
/// One slot makes one call at a time, so <see cref="RunAsync"/> is never called concurrently.</remarks>
internal sealed class HandlerThread : IDisposable
{
    private readonly BlockingCollection<Call> _calls = new();
    private readonly string _name;
    private Thread? _thread;

    public HandlerThread(string name) => _name = name;

    /// <summary>Starts <paramref name="start"/> on this thread; completes when the task it returns completes.</summary>
    public Task RunAsync(Func<Task> start)
    {
        if (_thread is null)
        {
            // A background thread: a handler that never returns must not keep the process alive after the worker.
            _thread = new Thread(Run) { IsBackground = true, Name = _name };
            _thread.Start();
        }
        var call = new Call(start, ExecutionContext.Capture());
        _calls.Add(call);
        return call.Started.Task.Unwrap();
    }

    /// <summary>Lets the thread end once the call it runs (if any) has returned.</summary>
    public void Dispose()
    {
        _calls.CompleteAdding();
        if (_thread is null) _calls.Dispose();
    }

    private void Run()
    {
        foreach (var call in _calls.GetConsumingEnumerable()) call.Start();
        _calls.Dispose();
    }

    private sealed class Call
    {
        private static readonly ContextCallback StartInContext = state => ((Call)state!).StartHere();
        private readonly Func<Task> _start;
        private readonly ExecutionContext? _context;

        public Call(Func<Task> start, ExecutionContext? context)
        {
            _start = start;
            _context = context;
        }

        // Continuations run on the pool, not on this thread, which is needed for the next call.
        public TaskCompletionSource<Task> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Start()
        {
            // The caller's execution context (AsyncLocal values, culture flow) goes with the call.
            if (_context is null) StartHere();
            else ExecutionContext.Run(_context, StartInContext, this);
        }

        private void StartHere()
        {
            try
            {
                Started.SetResult(_start() ?? Task.CompletedTask);
            }
            catch (Exception e)
            {
                Started.SetResult(Task.FromException(e));
            }
        }
    }
}
