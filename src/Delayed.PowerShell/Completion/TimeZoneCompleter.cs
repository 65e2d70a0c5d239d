using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Delayed.PowerShell.Completion;

/// <summary>Completes the time zone ids this machine knows.</summary>
internal sealed class TimeZoneCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = wordToComplete.Trim('\'', '"');
        return TimeZoneInfo.GetSystemTimeZones()
            .Select(z => z.Id)
            .Where(id => id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .OrderBy(id => id, StringComparer.OrdinalIgnoreCase)
            .Select(id => new CompletionResult(id.IndexOf(' ') >= 0 ? $"'{id}'" : id, id, CompletionResultType.ParameterValue, id));
    }
}
