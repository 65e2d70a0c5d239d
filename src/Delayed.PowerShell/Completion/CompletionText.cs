using System.Management.Automation;

namespace Delayed.PowerShell.Completion;

/// <summary>Completion results quoted the way PowerShell needs them.</summary>
internal static class CompletionText
{
    /// <summary>Characters that make PowerShell read a word otherwise than as one string.</summary>
    private static readonly char[] NeedQuotes = { ' ', '\'', '\"', '$', '`', '{', '}', '(', ')', ';', ',', '@', '#', '&', '|', '<', '>' };

    public static CompletionResult Result(string value, string tooltip)
    {
        var needsQuotes = value.Length == 0 || value.IndexOfAny(NeedQuotes) >= 0;
        var text = needsQuotes ? "'" + value.Replace("'", "''") + "'" : value;
        return new CompletionResult(text, value, CompletionResultType.ParameterValue, tooltip);
    }

    /// <summary>What the user typed so far, without the quotes they may have opened.</summary>
    public static string Prefix(string wordToComplete) => wordToComplete.Trim('\'', '"');
}
