using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using Delayed.Core.Worker;

namespace Delayed.PowerShell.Handlers;

/// <summary>What one worker run may dispatch to: its -Handler table and the session's registered handlers.</summary>
internal sealed class WorkerHandlerRegistry : ITaskHandlerRegistry
{
    private readonly Dictionary<string, ITaskHandler> _handlers = new(StringComparer.Ordinal);

    public ITaskHandler? Resolve(string name) => _handlers.TryGetValue(name, out var handler) ? handler : null;

    public int Count => _handlers.Count;

    /// <summary>Resolves every handler now, on the pipeline thread, so that a missing command fails the start, not a task.</summary>
    public static WorkerHandlerRegistry Build(IDictionary? table, IEnumerable<HandlerInfo> registered, PipelinePump pump, CommandInvocationIntrinsics commands)
    {
        var registry = new WorkerHandlerRegistry();
        var wrapper = ScriptTaskHandler.CreateWrapper();
        foreach (var handler in registered)
        {
            registry._handlers[handler.Name] = handler.ScriptBlock is { } block
                ? ScriptTaskHandler.ForScriptBlock(handler.Name, block, pump, wrapper)
                : ScriptTaskHandler.ForCommand(handler.Name, ResolveCommand(handler.Name, handler.Command!, commands), pump, wrapper);
        }
        if (table is not null)
        {
            foreach (DictionaryEntry entry in table)
            {
                var name = (entry.Key is PSObject key ? key.BaseObject : entry.Key) as string;
                var value = entry.Value is PSObject wrapped ? wrapped.BaseObject : entry.Value;
                if (string.IsNullOrEmpty(name))
                    throw new ArgumentException($"-Handler keys are task names (strings); '{entry.Key}' is not.");
                registry._handlers[name!] = value switch
                {
                    ScriptBlock block => ScriptTaskHandler.ForScriptBlock(name!, block, pump, wrapper),
                    string command => ScriptTaskHandler.ForCommand(name!, ResolveCommand(name!, command, commands), pump, wrapper),
                    _ => throw new ArgumentException($"-Handler maps task names to scriptblocks or command names; the value for '{name}' is a {value?.GetType().Name ?? "null"}."),
                };
            }
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
