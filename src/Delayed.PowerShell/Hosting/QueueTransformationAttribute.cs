using System;
using System.Management.Automation;

namespace Delayed.PowerShell.Hosting;

/// <summary>Lets -Queue take a queue name as well: it becomes a queue on the default Redis server.</summary>
internal sealed class QueueTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        return value is string name ? QueueFactory.Create(name, ConnectionCache.DefaultConfiguration, null, null) : inputData;
    }
}
