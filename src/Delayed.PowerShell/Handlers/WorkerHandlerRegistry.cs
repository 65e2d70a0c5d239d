using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using Delayed.Core.Worker;

namespace Delayed.PowerShell.Handlers;

/// <summary>What one worker run may dispatch to: the session's registered handlers, then its -Handler table.</summary>
internal sealed class WorkerHandlerRegistry : ITaskHandlerRegistry
{
    private readonly Dictionary<string, ITaskHandler> _handlers = new(StringComparer.Ordinal);

    public ITaskHandler? Resolve(string name) => _handlers.TryGetValue(name, out var handler) ? handler : null;

    public int Count => _handlers.Count;

    /// <summary>Handlers that run on the cmdlet's pipeline thread, in the caller's runspace.</summary>
    public static WorkerHandlerRegistry OnPipeline(IDictionary? table, IEnumerable<HandlerInfo> registered, PipelinePump pump, ForegroundPipeline pipeline, HandlerStreams streams, CommandInvocationIntrinsics commands) =>
        Build(table, registered, commands,
            (name, block) => PipelineTaskHandler.ForScriptBlock(name, block, pump, pipeline, streams),
            (name, command) => PipelineTaskHandler.ForCommand(name, command, pump, pipeline, streams));

    /// <summary>Handlers that run in a runspace per worker slot, re-created there from their definitions.</summary>
    public static WorkerHandlerRegistry InRunspaces(IDictionary? table, IEnumerable<HandlerInfo> registered, HandlerRunspaces runspaces, HandlerStreams streams, CommandInvocationIntrinsics commands)
    {
        var count = 0;
        return Build(table, registered, commands,
            (name, block) =>
            {
                var function = "__DelayedHandler" + ++count;
                runspaces.DefineFunction(function, block.ToString());
                return new RunspaceTaskHandler(name, function, HandlerSignature.Of(block), runspaces, streams);
            },
            (name, command) =>
            {
                if (command.Module is { } module) runspaces.ImportModule(string.IsNullOrEmpty(module.Path) ? module.Name : module.Path);
                else if (command is FunctionInfo function) runspaces.DefineFunction(function.Name, function.Definition);
                return new RunspaceTaskHandler(name, command.Name, HandlerSignature.Of(command), runspaces, streams);
            });
    }

    /// <summary>Resolves every handler now, on the pipeline thread, so that a missing command fails the start, not a task.</summary>
    private static WorkerHandlerRegistry Build(IDictionary? table, IEnumerable<HandlerInfo> registered, CommandInvocationIntrinsics commands,
        Func<string, ScriptBlock, ITaskHandler> forScriptBlock, Func<string, CommandInfo, ITaskHandler> forCommand)
    {
        var registry = new WorkerHandlerRegistry();
        foreach (var handler in registered)
        {
            registry._handlers[handler.Name] = handler.Method is { } method ? method
                : handler.ScriptBlock is { } block ? forScriptBlock(handler.Name, block)
                : forCommand(handler.Name, ResolveCommand(handler.Name, handler.Command!, commands));
        }
        if (table is null) return registry;
        foreach (DictionaryEntry entry in table)
        {
            var name = (entry.Key is PSObject key ? key.BaseObject : entry.Key) as string;
            var value = entry.Value is PSObject wrapped ? wrapped.BaseObject : entry.Value;
            if (string.IsNullOrEmpty(name))
                throw new ArgumentException($"-Handler keys are task names (strings); '{entry.Key}' is not.");
            registry._handlers[name!] = value switch
            {
                ScriptBlock block => forScriptBlock(name!, block),
                string command => forCommand(name!, ResolveCommand(name!, command, commands)),
                _ => throw new ArgumentException($"-Handler maps task names to scriptblocks or command names; the value for '{name}' is a {value?.GetType().Name ?? "null"}."),
            };
        }
        return registry;
    }

    internal static CommandInfo ResolveCommand(string handlerName, string command, CommandInvocationIntrinsics commands)
    {
        var info = commands.GetCommand(command, CommandTypes.Function | CommandTypes.Cmdlet | CommandTypes.Alias | CommandTypes.ExternalScript);
        while (info is AliasInfo alias) info = alias.ResolvedCommand;
        return info ?? throw new ArgumentException(
            $"Handler '{handlerName}' calls the command '{command}', which is not found in this session. Define the function or import its module before starting the worker.");
    }
}
