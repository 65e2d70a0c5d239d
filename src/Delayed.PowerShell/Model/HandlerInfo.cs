using System.IO;
using System.Management.Automation;
using Delayed.Core.Handlers;

namespace Delayed;

/// <summary>A handler registered with Register-DelayedHandler.</summary>
public sealed class HandlerInfo
{
    internal HandlerInfo(string name, ScriptBlock? scriptBlock, string? command, MethodTaskHandler? method = null)
    {
        Name = name;
        ScriptBlock = scriptBlock;
        Command = command;
        Method = method;
    }

    /// <summary>The task name it runs, matched exactly.</summary>
    public string Name { get; }

    /// <summary>ScriptBlock, Command or DotNet.</summary>
    public string Kind => Method is not null ? "DotNet" : ScriptBlock is null ? "Command" : "ScriptBlock";

    public ScriptBlock? ScriptBlock { get; }

    /// <summary>The function or cmdlet it calls, for command handlers.</summary>
    public string? Command { get; }

    /// <summary>The assembly file of a .NET handler.</summary>
    public string? AssemblyPath => Method?.Method.DeclaringType?.Assembly.Location;

    public string Definition =>
        Method is not null ? $"{Method.Signature} in {Path.GetFileName(AssemblyPath)}"
        : ScriptBlock?.ToString().Trim() ?? Command ?? "";

    internal MethodTaskHandler? Method { get; }
}
