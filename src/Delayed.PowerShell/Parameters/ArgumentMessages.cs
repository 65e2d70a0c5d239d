using System;

namespace Delayed.PowerShell.Parameters;

/// <summary>What an argument error says at a PowerShell prompt.</summary>
internal static class ArgumentMessages
{
    /// <summary>The message alone: the .NET parameter name it ends with means nothing at a PowerShell prompt.</summary>
    public static string WithoutParameterName(ArgumentException e)
    {
        var message = e.Message;
        if (e.ParamName is not { } name) return message;
        foreach (var suffix in new[] { $" (Parameter '{name}')", Environment.NewLine + "Parameter name: " + name })
        {
            var at = message.IndexOf(suffix, StringComparison.Ordinal);
            if (at >= 0) return message.Remove(at, suffix.Length);
        }
        return message;
    }
}
