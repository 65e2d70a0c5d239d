using System;
using System.Collections.Generic;
using System.Reflection;

namespace Delayed.PowerShell.Hosting;

/// <summary>
/// Turns SIGTERM and SIGHUP into a graceful stop while a worker or sweeper runs (a service manager's stop,
/// or a closed terminal). PosixSignalRegistration exists from .NET 6 on; the module targets
/// netstandard2.0, so it is reached by reflection and simply absent on Windows PowerShell 5.1.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private const int SigHup = -1, SigTerm = -4; // System.Runtime.InteropServices.PosixSignal values
    private readonly List<IDisposable> _registrations = new();
    private readonly Action _onStop;

    private StopSignals(Action onStop) => _onStop = onStop;

    public static StopSignals Register(Action onStop)
    {
        var signals = new StopSignals(onStop);
        var registration = Type.GetType("System.Runtime.InteropServices.PosixSignalRegistration, System.Runtime.InteropServices");
        var signalType = Type.GetType("System.Runtime.InteropServices.PosixSignal, System.Runtime.InteropServices");
        var contextType = Type.GetType("System.Runtime.InteropServices.PosixSignalContext, System.Runtime.InteropServices");
        if (registration is null || signalType is null || contextType is null) return signals;
        var create = registration.GetMethod("Create", BindingFlags.Public | BindingFlags.Static);
        var handlerType = typeof(Action<>).MakeGenericType(contextType);
        var handler = Delegate.CreateDelegate(handlerType, signals, typeof(StopSignals).GetMethod(nameof(OnSignal), BindingFlags.NonPublic | BindingFlags.Instance)!);
        foreach (var signal in new[] { SigTerm, SigHup })
        {
            try
            {
                if (create?.Invoke(null, new[] { Enum.ToObject(signalType, signal), handler }) is IDisposable registered) signals._registrations.Add(registered);
            }
            catch (TargetInvocationException)
            {
                // Not supported on this platform (e.g. Windows): nothing to register.
            }
        }
        return signals;
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
    }

    private void OnSignal(object context)
    {
        context.GetType().GetProperty("Cancel")?.SetValue(context, true); // keep the process alive: we stop ourselves
        _onStop();
    }
}
