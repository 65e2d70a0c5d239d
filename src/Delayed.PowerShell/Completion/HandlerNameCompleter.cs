using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using Delayed.PowerShell.Handlers;

namespace Delayed.PowerShell.Completion;

/// <summary>Completes the task names of the handlers registered in this session.</summary>
public sealed class HandlerNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = CompletionText.Prefix(wordToComplete);
        return SessionHandlers.Current.Values
            .Where(h => h.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .OrderBy(h => h.Name, StringComparer.Ordinal)
            .Select(h => CompletionText.Result(h.Name, $"{h.Kind}: {h.Definition}"))
            .ToList();
    }
}
