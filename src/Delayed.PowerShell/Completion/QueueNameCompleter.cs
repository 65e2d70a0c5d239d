using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using Delayed.PowerShell.Connections;

namespace Delayed.PowerShell.Completion;

/// <summary>
/// Completes queue names: the queues this session has used, and those a bounded scan finds on the server
/// (the -Redis being typed, else the default). Only a connection that is already open is scanned, and for at
/// most half a second, so completion never hangs on an unreachable server.
/// </summary>
public sealed class QueueNameCompleter : IArgumentCompleter
{
    private static readonly TimeSpan ScanBudget = TimeSpan.FromMilliseconds(500);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = CompletionText.Prefix(wordToComplete);
        var configuration = fakeBoundParameters["Redis"] as string ?? ConnectionCache.DefaultConfiguration;
        var names = new SortedSet<string>(QueueFactory.KnownNames(configuration), StringComparer.Ordinal);
        if (ConnectionCache.TryGetOpen(configuration) is { } connection)
        {
            var scan = connection.FindQueueNamesAsync(prefix);
            try
            {
                if (scan.Wait(ScanBudget)) names.UnionWith(scan.Result);
            }
            catch (AggregateException)
            {
                // The server did not answer: complete from what this session knows.
            }
        }
        return names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => CompletionText.Result(n, "queue " + n)).ToList();
    }
}
