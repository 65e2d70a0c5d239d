using System;
using System.Collections.Generic;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;

namespace Delayed.PowerShell.Hosting;

/// <summary>
/// Turns a service manager's stop into a graceful stop while a worker or sweeper runs. On Unix: SIGTERM and
/// SIGHUP, through PosixSignalRegistration (.NET 6 and later; the module targets netstandard2.0, so it is
/// reached by reflection). On Windows: Ctrl+Break, closing the console window, log-off and shut-down, through
/// SetConsoleCtrlHandler; for a close, Windows ends the process about 5 seconds later, so the handler waits
/// up to 4.5 seconds for the stop to finish.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private const int SigHup = -1, SigTerm = -4; // System.Runtime.InteropServices.PosixSignal values
    private const int CtrlBreak = 1, CtrlClose = 2, CtrlLogoff = 5, CtrlShutdown = 6;
    private static readonly TimeSpan WindowsGrace = TimeSpan.FromSeconds(4.5);
    private readonly List<IDisposable> _registrations = new();
    private readonly Action _onStop;
    private readonly ManualResetEventSlim _finished = new();
    private ConsoleCtrlHandler? _consoleHandler; // held so that the delegate outlives the native registration

    private StopSignals(Action onStop) => _onStop = onStop;

    private delegate bool ConsoleCtrlHandler(int controlType);

    public static StopSignals Register(Action onStop)
    {
        var signals = new StopSignals(onStop);
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) signals.RegisterConsoleHandler();
        else signals.RegisterPosixSignals();
        return signals;
    }

    public void Dispose()
    {
        _finished.Set();
        foreach (var registration in _registrations) registration.Dispose();
        if (_consoleHandler is not null) SetConsoleCtrlHandler(_consoleHandler, false);
    }

    private void RegisterPosixSignals()
    {
        var registration = Type.GetType("System.Runtime.InteropServices.PosixSignalRegistration, System.Runtime.InteropServices");
        var signalType = Type.GetType("System.Runtime.InteropServices.PosixSignal, System.Runtime.InteropServices");
        var contextType = Type.GetType("System.Runtime.InteropServices.PosixSignalContext, System.Runtime.InteropServices");
        if (registration is null || signalType is null || contextType is null) return;
        var create = registration.GetMethod("Create", BindingFlags.Public | BindingFlags.Static);
        var handler = Delegate.CreateDelegate(typeof(Action<>).MakeGenericType(contextType), this,
            typeof(StopSignals).GetMethod(nameof(OnPosixSignal), BindingFlags.NonPublic | BindingFlags.Instance)!);
        foreach (var signal in new[] { SigTerm, SigHup })
        {
            try
            {
                if (create?.Invoke(null, new[] { Enum.ToObject(signalType, signal), handler }) is IDisposable registered) _registrations.Add(registered);
            }
            catch (TargetInvocationException)
            {
                // Not supported on this platform: nothing to register.
            }
        }
    }

    private void OnPosixSignal(object context)
    {
        context.GetType().GetProperty("Cancel")?.SetValue(context, true); // keep the process alive: we stop ourselves
        _onStop();
    }

    private void RegisterConsoleHandler()
    {
        _consoleHandler = OnConsoleEvent;
        try
        {
            if (!SetConsoleCtrlHandler(_consoleHandler, true)) _consoleHandler = null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _consoleHandler = null;
        }
    }

    private bool OnConsoleEvent(int controlType)
    {
        if (controlType is not (CtrlBreak or CtrlClose or CtrlLogoff or CtrlShutdown)) return false; // Ctrl+C: PowerShell's own
        _onStop();
        if (controlType != CtrlBreak) _finished.Wait(WindowsGrace);
        return true;
    }

    [DllImport("kernel32.dll", SetLastError = true)]
    private static extern bool SetConsoleCtrlHandler(ConsoleCtrlHandler handler, bool add);
}
