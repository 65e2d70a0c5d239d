using System;
using System.Management.Automation;
using System.Threading.Tasks;
using Delayed.Core.Worker;

namespace Delayed.PowerShell.Handlers;

/// <summary>
/// Runs a scriptblock or command handler on the cmdlet's pipeline thread, in the caller's runspace: the
/// foreground worker's way, where handlers see the caller's variables and functions. Its streams are merged into its
/// output and passed on, item by item as written, to the worker. InvokeAsync hands the call to the pipeline pump and
/// returns: it never blocks the slot.
/// </summary>
internal sealed class PipelineTaskHandler : PowerShellTaskHandler, ISelfDispatchingTaskHandler
{
    private readonly object _target;
    private readonly PipelinePump _pump;
    private readonly ScriptBlock _wrapper;
    private readonly HandlerStreams _streams;

    private PipelineTaskHandler(string name, object target, HandlerSignature signature, PipelinePump pump, ScriptBlock wrapper, HandlerStreams streams)
        : base(name, signature)
    {
        _target = target;
        _pump = pump;
        _wrapper = wrapper;
        _streams = streams;
    }

    // $DelayedTask, a parameter of the wrapper, is visible to the handler it calls (PowerShell's dynamic scoping).
    private const string WrapperText =
        "param($__delayedHandler, $__delayedArguments, $__delayedNamed, $DelayedTask, $__delayedSink, $__delayedTarget)\n$ErrorActionPreference = 'Stop'\n"
        + CallMarker + " *>&1 | & $__delayedSink $__delayedTarget";

    /// <summary>The wrapper that every handler of one worker run shares; create it on the pipeline thread.</summary>
    public static ScriptBlock CreateWrapper() => ScriptBlock.Create(WrapperText);

    public static PipelineTaskHandler ForScriptBlock(string name, ScriptBlock scriptBlock, PipelinePump pump, ScriptBlock wrapper, HandlerStreams streams) =>
        new(name, scriptBlock, HandlerSignature.Of(scriptBlock), pump, wrapper, streams);

    public static PipelineTaskHandler ForCommand(string name, CommandInfo command, PipelinePump pump, ScriptBlock wrapper, HandlerStreams streams) =>
        new(name, command, HandlerSignature.Of(command), pump, wrapper, streams);

    public override Task InvokeAsync(TaskContext context) => _pump.InvokeAsync(() => Invoke(context));

    private void Invoke(TaskContext context)
    {
        var (positional, named) = BindArguments(context.Task);
        using var run = _streams.Begin(context);
        try
        {
            _wrapper.Invoke(_target, positional, named, RunningTask.Of(context), HandlerRecordSink.Command, (Action<object?>)run.Add);
        }
        catch (Exception e)
        {
            var translated = Translate(e, context);
            if (ReferenceEquals(translated, e)) throw;
            throw translated;
        }

    }
}
