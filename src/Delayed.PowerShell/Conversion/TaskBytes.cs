using System.Collections;
using Delayed.Core.Codec;

namespace Delayed.PowerShell.Conversion;

/// <summary>A task's wire bytes from what a cmdlet was given: its name, arguments, named parameters, retry budget and format.</summary>
internal static class TaskBytes
{
    /// <summary>Why the parameters given do not fit the format, or null: Go-shaped tasks carry no named parameters and no retry budget.</summary>
    public static string? FormatProblem(TaskFormat format, bool hasParameter, bool hasRetry) =>
        format == TaskFormat.Go && (hasParameter || hasRetry)
            ? "Go-shaped tasks carry neither named parameters nor a retry budget. Pass the values in -ArgumentList (a Go struct as an array of its field values), or use -Format Python."
            : null;

    /// <summary>Encodes the task; arguments must be plain data (PlainDataConverter says what is not).</summary>
    public static byte[] Encode(string name, object?[]? argumentList, IDictionary? parameter, int retry, TaskFormat format)
    {
        object?[]? arguments = null;
        if (argumentList is not null)
        {
            // A loop, not LINQ: this runs once per task of a pipeline.
            arguments = new object?[argumentList.Length];
            for (var i = 0; i < arguments.Length; i++) arguments[i] = PlainDataConverter.ToPlain(argumentList[i]);
        }
        return format == TaskFormat.Go
            ? TaskEncoder.EncodeGo(name, arguments)
            : TaskEncoder.EncodePython(name, arguments, parameter is null ? null : (IDictionary?)PlainDataConverter.ToPlain(parameter), retry);
    }
}
