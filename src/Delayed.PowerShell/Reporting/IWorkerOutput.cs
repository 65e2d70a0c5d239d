using System.Management.Automation;

namespace Delayed.PowerShell.Reporting;

/// <summary>Where a worker or sweeper writes: a cmdlet's pipeline, or a job's streams. Callable from any thread.</summary>
internal interface IWorkerOutput
{
    void Object(object value);
    void Error(ErrorRecord record);
    void Warning(string message);
    void Verbose(string message);
    void Debug(string message);
    void Information(InformationRecord record);
}
