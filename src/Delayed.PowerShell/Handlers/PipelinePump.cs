using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Worker;

namespace Delayed.PowerShell.Handlers;

/// <summary>
/// Runs work on the cmdlet's pipeline thread: scriptblocks may run only on their runspace's thread, and
/// WriteObject/WriteError only from the pipeline thread. Worker threads post; the cmdlet pumps.
/// </summary>
internal sealed class PipelinePump : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private int _pumpThread = -1;

    /// <summary>Whether the caller runs on the pipeline thread, inside the pump (a foreground handler does).</summary>
    public bool OnPumpThread => Volatile.Read(ref _pumpThread) == Environment.CurrentManagedThreadId;

    /// <summary>Queues <paramref name="action"/>; does nothing once the pump has finished.</summary>
    public void Post(Action action)
    {
        try
        {
            _work.Add(action);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // the pump has finished: nothing runs on the pipeline thread any more
        }
    }

    public void Dispose() => _work.Dispose();

    /// <summary>
    /// Runs <paramref name="action"/> on the pipeline thread; the task completes when it has run, and the code that
    /// awaits it continues on the pipeline thread (a worker's slot, which claims its next task from here: <see cref="Run"/>).
    /// </summary>
    public Task InvokeAsync(Action action)
    {
        // Not RunContinuationsAsynchronously: a hand-off to the thread pool per task is the wake-up that busy cores make
        // slow; the slot's code only claims (inline) and posts its next handler here, then returns to the pump.
        var done = new TaskCompletionSource<object?>();
        Post(() =>
        {
            try
            {
                action();
                done.SetResult(null);
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }

    /// <summary>Pumps on the calling (pipeline) thread until <paramref name="until"/> completes, then drains.</summary>
    public void Run(Task until)
    {
        until.ContinueWith(_ => _work.CompleteAdding(), TaskScheduler.Default);
        Volatile.Write(ref _pumpThread, Environment.CurrentManagedThreadId);
        // A slot that continues here after its handler makes its next claim here too, without a thread switch.
        using var inline = InlineClaims.OnThisThread();
        try
        {
            foreach (var action in _work.GetConsumingEnumerable()) action();
        }
        finally
        {
            Volatile.Write(ref _pumpThread, -1);
        }
    }
}
