using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Worker;
using Delayed.PowerShell.Conversion;

namespace Delayed.PowerShell.Handlers;

/// <summary>
/// Runs a task with a scriptblock or command handler on the pipeline thread, with
/// $ErrorActionPreference = 'Stop', binding arguments as splatting does.
/// </summary>
internal sealed class ScriptTaskHandler : ITaskHandler
{
    // Splatting gives positional and named binding exactly as PowerShell users know it.
    private const string CallMarker = "& $__delayedHandler @__delayedArguments @__delayedNamed";
    private const string WrapperText =
        "param($__delayedHandler, $__delayedArguments, $__delayedNamed)\n$ErrorActionPreference = 'Stop'\n" + CallMarker;

    private readonly string _name;
    private readonly object _target;
    private readonly HandlerSignature _signature;
    private readonly PipelinePump _pump;
    private readonly ScriptBlock _wrapper;

    private ScriptTaskHandler(string name, object target, HandlerSignature signature, PipelinePump pump, ScriptBlock wrapper)
    {
        _name = name;
        _target = target;
        _signature = signature;
        _pump = pump;
        _wrapper = wrapper;
    }

    /// <summary>The wrapper that every handler of one worker run shares; create it on the pipeline thread.</summary>
    public static ScriptBlock CreateWrapper() => ScriptBlock.Create(WrapperText);

    public static ScriptTaskHandler ForScriptBlock(string name, ScriptBlock scriptBlock, PipelinePump pump, ScriptBlock wrapper) =>
        new(name, scriptBlock, HandlerSignature.Of(scriptBlock), pump, wrapper);

    public static ScriptTaskHandler ForCommand(string name, CommandInfo command, PipelinePump pump, ScriptBlock wrapper) =>
        new(name, command, HandlerSignature.Of(command), pump, wrapper);

    public Task InvokeAsync(TaskContext context) => _pump.InvokeAsync(() => Invoke(context));

    private void Invoke(TaskContext context)
    {
        context.CancellationToken.ThrowIfCancellationRequested();
        var (positional, named) = Arguments(context.Task);
        _signature.Check(context.Task.Name, positional.Length, named.Keys.Cast<string>().ToList());
        try
        {
            _wrapper.Invoke(_target, positional, named);
        }
        catch (Exception e) when (IsBindingFailure(e))
        {
            throw new TaskBindingException($"Task '{context.Task.Name}' cannot be bound to handler '{_name}': {e.Message}", e);
        }
        catch (PipelineStoppedException e) when (context.CancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The worker was stopped while the task ran.", e, context.CancellationToken);
        }
    }

    private (object?[] Positional, Hashtable Named) Arguments(DelayedTask task)
    {
        var named = new Hashtable(StringComparer.OrdinalIgnoreCase);
        if (task.Format == Core.Codec.TaskFormat.Python)
        {
            foreach (var pair in task.NamedArguments) named[pair.Key] = PlainDataConverter.FromPlain(pair.Value);
            return (task.Arguments.Select(PlainDataConverter.FromPlain).ToArray(), named);
        }
        if (!task.HasPayload) return (Array.Empty<object?>(), named);
        var payload = PlainDataConverter.FromPlain(task.Payload);
        // One declared parameter takes the payload whole; otherwise an array payload is spread.
        if (_signature.Parameters.Count != 1 && payload is object?[] items) return (items, named);
        return (new[] { payload }, named);
    }

    /// <summary>A binding error of the handler call itself, not one raised by a command inside the handler.</summary>
    private static bool IsBindingFailure(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            if (current is ParameterBindingException binding)
                return binding.ErrorRecord?.InvocationInfo?.Line?.Contains(CallMarker) == true;
            if (current is RuntimeException { ErrorRecord.Exception: ParameterBindingException inner } && !ReferenceEquals(inner, current))
                return inner.ErrorRecord?.InvocationInfo?.Line?.Contains(CallMarker) == true;
        }
        return false;
    }
}
