using System;
using System.Collections;
using System.Management.Automation;

namespace Delayed.PowerShell.Handlers;

/// <summary>
/// The pipeline that a foreground worker's handlers run in, on the cmdlet's pipeline thread: one command that calls each
/// task's handler with its streams merged into its output, piped to the sink that passes each item on as it is written.
/// It is built once per worker run (a steppable pipeline) and stepped once per task: a wrapper scriptblock invoked per
/// task built that pipeline of two commands again every time, which cost as much as the handler's own invocation
/// (45 KB of the 60 KB allocated per task; bench/README.md). A handler that throws ends the pipeline, as a terminating
/// error ends any: the next task builds it again.
/// </summary>
internal sealed class ForegroundPipeline : IDisposable
{
    // $DelayedTask, set before the call, is visible to the handler it calls (PowerShell's dynamic scoping).
    private const string Text =
        "param($__delayedSink, $__delayedTarget)\n" +
        "& { begin { $ErrorActionPreference = 'Stop' } process {\n" +
        "$__delayedHandler = $_.Item1; $__delayedArguments = $_.Item2; $__delayedNamed = $_.Item3; $DelayedTask = $_.Item4\n" +
        PowerShellTaskHandler.CallMarker + " *>&1\n" +
        "} } | & $__delayedSink $__delayedTarget";

    private readonly ScriptBlock _script = ScriptBlock.Create(Text);
    private SteppablePipeline? _pipeline;
    private Action<object?>? _current;

    /// <summary>Calls <paramref name="handler"/> (a scriptblock or a command); what it writes goes to <paramref name="sink"/>, item by item.</summary>
    public void Invoke(object handler, object?[] positional, Hashtable named, RunningTask task, Action<object?> sink)
    {
        _current = sink;
        try
        {
            Pipeline().Process(Tuple.Create(handler, positional, named, task));
        }
        catch
        {
            Discard();
            throw;
        }
        finally
        {
            _current = null;
        }
    }

    public void Dispose() => Discard();

    private SteppablePipeline Pipeline()
    {
        if (_pipeline is { } pipeline) return pipeline;
        pipeline = _script.GetSteppablePipeline(CommandOrigin.Internal, new object[] { HandlerRecordSink.Command, (Action<object?>)Forward });
        pipeline.Begin(true);
        return _pipeline = pipeline;
    }

    private void Forward(object? item) => _current?.Invoke(item);

    private void Discard()
    {
        var pipeline = _pipeline;
        _pipeline = null;
        pipeline?.Dispose();
    }
}
