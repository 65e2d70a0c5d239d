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
    private readonly ForegroundPipeline _pipeline;
    private readonly HandlerStreams _streams;

    private PipelineTaskHandler(string name, object target, HandlerSignature signature, PipelinePump pump, ForegroundPipeline pipeline, HandlerStreams streams)
        : base(name, signature)
    {
        _target = target;
        _pump = pump;
        _pipeline = pipeline;
        _streams = streams;
    }

    public static PipelineTaskHandler ForScriptBlock(string name, ScriptBlock scriptBlock, PipelinePump pump, ForegroundPipeline pipeline, HandlerStreams streams) =>
        new(name, scriptBlock, HandlerSignature.Of(scriptBlock), pump, pipeline, streams);

    public static PipelineTaskHandler ForCommand(string name, CommandInfo command, PipelinePump pump, ForegroundPipeline pipeline, HandlerStreams streams) =>
        new(name, command, HandlerSignature.Of(command), pump, pipeline, streams);

    public override Task InvokeAsync(TaskContext context) => _pump.InvokeAsync(() => Invoke(context));

    private void Invoke(TaskContext context)
    {
        var (positional, named) = BindArguments(context.Task);
        using var run = _streams.Begin(context);
        try
        {
            _pipeline.Invoke(_target, positional, named, RunningTask.Of(context), run.Add);
        }
        catch (Exception e)
        {
            var translated = Translate(e, context);
            if (ReferenceEquals(translated, e)) throw;
            throw translated;
        }
    }
}
