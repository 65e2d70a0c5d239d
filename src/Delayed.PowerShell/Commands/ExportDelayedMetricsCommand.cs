using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Delayed.Core.Telemetry;

namespace Delayed.PowerShell.Commands;

/// <summary>Writes the gauges of queues to a file in the Prometheus text format, for a textfile collector.</summary>
/// <remarks>
/// For node_exporter's textfile collector (--collector.textfile.directory) and windows_exporter's (textfile directory):
/// run it from a scheduled task or a cron job, every minute say, with a path in the collector's directory ending in
/// .prom. It reads each queue once and writes, per queue: delayed_queue_length, delayed_queue_scheduled,
/// delayed_queue_in_flight, delayed_queue_in_flight_worker_gone, delayed_queue_failed, delayed_queue_workers,
/// delayed_queue_paused and delayed_queue_up (see README's Monitoring section). The age of the oldest waiting task
/// takes repeated looks and is served only by -MetricsPort of Start-DelayedWorker and Start-DelayedSweeper. The file
/// is replaced whole, never left half-written for a collector to read. Without a queue it covers every queue of the
/// server (-Redis, else the default one).
/// </remarks>
/// <example>
/// <code>Export-DelayedMetrics -Path /var/lib/node_exporter/textfile/delayed.prom</code>
/// <para>Every queue on the default server, for node_exporter (e.g. from a systemd timer or cron, each minute).</para>
/// </example>
/// <example>
/// <code>Export-DelayedMetrics jobs, reports -Path 'C:\Program Files\windows_exporter\textfile_inputs\delayed.prom'</code>
/// <para>Two queues, for windows_exporter (e.g. from a scheduled task).</para>
/// </example>
[Cmdlet(VerbsData.Export, "DelayedMetrics", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(FileInfo))]
public sealed class ExportDelayedMetricsCommand : QueuesOrServerCmdlet
{

    /// <summary>The file to write (replaced whole). Textfile collectors read only names ending in .prom.</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";


    /// <summary>Returns the file written.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }


    protected override void EndProcessing()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var queues = GivenOrAllQueues();
        if (!path.EndsWith(".prom", StringComparison.OrdinalIgnoreCase))
            WriteWarning($"'{path}' does not end in .prom: node_exporter's and windows_exporter's textfile collectors skip such files.");
        if (!ShouldProcess(path, $"Write the gauges of {queues.Count} queue(s)")) return;
        var directory = System.IO.Path.GetDirectoryName(path);
        if (string.IsNullOrEmpty(directory) || !Directory.Exists(directory))
        {
            ThrowTerminatingError(new ErrorRecord(new DirectoryNotFoundException($"The folder of '{path}' does not exist: create it, or give a path in the collector's folder."),
                "FolderNotFound", ErrorCategory.ObjectNotFound, path));
        }
        // Written beside the target and moved over it: a collector reading meanwhile sees the old file or the new one.
        var partial = System.IO.Path.Combine(directory!, "." + System.IO.Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            using (var stream = new FileStream(partial, FileMode.CreateNew, FileAccess.Write))
                Await(MetricsEndpoint.WriteGaugesAsync(queues.Select(q => q.Engine), stream, StopToken), path);
            if (File.Exists(path)) File.Replace(partial, path, null);
            else File.Move(partial, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "ExportFailed", ErrorCategory.WriteError, path));
        }
        finally
        {
            if (File.Exists(partial)) File.Delete(partial);
        }
        if (PassThru) WriteObject(new FileInfo(path));
    }
}
