using System;
using System.Management.Automation.Host;
using System.Threading;

namespace Delayed.PowerShell.Reporting;

/// <summary>
/// While a worker stops gracefully with tasks still running: says at once what it waits for, and, in a console,
/// takes the next Ctrl+C to stop those tasks now (they go back to the queue unchanged). PowerShell itself passes only
/// the first Ctrl+C of a pipeline to the cmdlet (StopProcessing); the next one reaches Console.CancelKeyPress.
/// </summary>
internal sealed class StopNotice : IDisposable
{
    private readonly PSHost _host;
    private readonly Action _interrupt;
    private int _pressed;

    private StopNotice(PSHost host, Action interrupt)
    {
        _host = host;
        _interrupt = interrupt;
    }

    /// <param name="host">Where to say it; nothing is said without a host UI.</param>
    /// <param name="who">What is stopping, e.g. "Worker on queue 'jobs'".</param>
    /// <param name="running">The tasks it waits for; nothing is said when there are none.</param>
    /// <param name="interrupt">Stops the running tasks now.</param>
    /// <param name="afterCtrlC">Whether a Ctrl+C began the stop (then the next one is "again"), rather than Stop-Job.</param>
    /// <returns>The notice, to dispose once the stop has finished; null when nothing was said.</returns>
    public static StopNotice? Show(PSHost? host, string who, RunningTasks running, Action interrupt, bool afterCtrlC)
    {
        if (host?.UI is null || running.Count == 0) return null;
        var console = IsConsole(host);
        var next = console ? $" Press Ctrl+C{(afterCtrlC ? " again" : "")} to stop them now: they go back to the queue unchanged, nothing is lost." : "";
        host.UI.WriteWarningLine($"{who} is stopping: waiting for {running.Count} running task(s) to finish: {running.Describe()}.{next}");
        var notice = new StopNotice(host, interrupt);
        if (console) Console.CancelKeyPress += notice.OnCancelKeyPress;
        return notice;
    }

    public void Dispose() => Console.CancelKeyPress -= OnCancelKeyPress;

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true; // the process lives on: the worker puts the tasks back and stops by itself
        if (Interlocked.Exchange(ref _pressed, 1) != 0) return;
        try
        {
            _host.UI.WriteWarningLine("Stopping the running tasks now; they go back to the queue.");
        }
        catch (Exception)
        {
            // Saying so is a courtesy; stopping is what counts.
        }
        _interrupt();
    }

    private static bool IsConsole(PSHost host) => host.Name == "ConsoleHost" && !Console.IsInputRedirected;
}
