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
/// What scriptblock and command handlers share, wherever they run: arguments bound as splatting does, checked
/// against the handler's declared parameters first, under $ErrorActionPreference = 'Stop'.
/// </summary>
internal abstract class PowerShellTaskHandler : ITaskHandler
{
    // Splatting gives positional and named binding exactly as PowerShell users know it.
    internal const string CallMarker = "& $__delayedHandler @__delayedArguments @__delayedNamed";

    /// <summary>The variable that tells a handler which task, worker and attempt it runs.</summary>
    protected const string TaskVariable = "DelayedTask";

    protected PowerShellTaskHandler(string name, HandlerSignature signature)
    {
        Name = name;
        Signature = signature;
    }

    public string Name { get; }

    protected HandlerSignature Signature { get; }

    public abstract Task InvokeAsync(TaskContext context);

    /// <summary>The task's arguments as PowerShell values, checked against the handler's parameters.</summary>
    protected (object?[] Positional, Hashtable Named) BindArguments(DelayedTask task)
    {
        var named = new Hashtable(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in task.NamedArguments) named[pair.Key] = PlainDataConverter.FromPlain(pair.Value);
        var plain = task.Format == Core.Codec.TaskFormat.Go ? task.GoArguments(Signature.Parameters.Count) : task.Arguments;
        var positional = plain.Select(PlainDataConverter.FromPlain).ToArray();
        Signature.Check(task.Name, positional.Length, named.Keys.Cast<string>().ToList());
        return (positional, named);
    }

    /// <summary>Maps what PowerShell threw to the worker's outcomes: a bad call, an interruption, or a failure.</summary>
    /// <param name="e">What the invocation threw.</param>
    /// <param name="context">The task.</param>
    /// <param name="command">The handler's command name when it was called directly, or null when called through the foreground pipeline.</param>
    protected Exception Translate(Exception e, TaskContext context, string? command = null)
    {
        if (Find<ExitException>(e) is { } exit)
            return new InvalidOperationException(ExitMessage(exit.Argument?.ToString()), e);
        // PowerShell says only "System error." for a break or continue that found no loop to leave.
        if (Find<LoopFlowException>(e) is { } loop)
            return new InvalidOperationException(
                $"The handler used '{(loop is BreakException ? "break" : "continue")}' outside a loop. A handler ends with return (success) or throw (failure); this counts as a failure.", e);
        if (IsBindingFailure(e, command))
            return new TaskBindingException($"Task '{context.Task.Name}' cannot be bound to handler '{Name}': {e.Message}", e);
        if (e is PipelineStoppedException)
        {
            // The timeout token first: the stop it triggers can end the pipeline before the linked token is signalled.
            if (context.TimeoutToken.IsCancellationRequested)
                return new OperationCanceledException("The task ran past its timeout and was stopped.", e, context.CancellationToken);
            // Otherwise its pipeline was stopped: Ctrl+C, or the worker stopping. On Ctrl+C PowerShell stops the handler
            // before it calls the worker cmdlet's StopProcessing, so the worker's token may not say so yet.
            return new TaskInterruptedException("The task was stopped with the pipeline that ran it (Ctrl+C).", e);
        }
        return e;
    }

    protected static string ExitMessage(string? code) =>
        $"The handler called 'exit {code}'. A handler ends with return (success) or throw (failure); exit counts as a failure.";

    private static T? Find<T>(Exception e) where T : Exception
    {
        for (var current = e; current is not null; current = current.InnerException)
            if (current is T found) return found;
        return null;
    }

    /// <summary>A binding error of the handler call itself, not one raised by a command inside the handler.</summary>
    private static bool IsBindingFailure(Exception e, string? command)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            var binding = current as ParameterBindingException
                ?? (current as RuntimeException)?.ErrorRecord?.Exception as ParameterBindingException;
            if (binding is null) continue;
            var invocation = binding.ErrorRecord?.InvocationInfo;
            return command is null
                ? invocation?.Line?.Contains(CallMarker) == true
                : string.Equals(invocation?.MyCommand?.Name, command, StringComparison.OrdinalIgnoreCase) && invocation?.ScriptLineNumber == 0;
        }
        return false;
    }
}
