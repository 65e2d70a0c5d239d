using System.Management.Automation;

namespace Delayed;

/// <summary>A handler registered with Register-DelayedHandler.</summary>
public sealed class HandlerInfo
{
    internal HandlerInfo(string name, ScriptBlock? scriptBlock, string? command)
    {
        Name = name;
        ScriptBlock = scriptBlock;
        Command = command;
    }

    /// <summary>The task name it runs, matched exactly.</summary>
    public string Name { get; }

    /// <summary>ScriptBlock or Command.</summary>
    public string Kind => ScriptBlock is null ? "Command" : "ScriptBlock";

    public ScriptBlock? ScriptBlock { get; }

    /// <summary>The function or cmdlet it calls, for command handlers.</summary>
    public string? Command { get; }

    public string Definition => ScriptBlock?.ToString().Trim() ?? Command ?? "";
}
