using System;
using System.Collections.Generic;
using System.Management.Automation.Host;
using System.Text;
using Delayed.PowerShell.Views;

namespace Delayed.PowerShell.Reporting;

/// <summary>
/// Redraws a screen in place in a terminal through the host, with VT sequences: on the terminal's alternate screen, as
/// top and less do, so that what was on the terminal before is back, with its cursor, when it ends (also after Ctrl+C).
/// Only from the pipeline thread, as everything that writes to the host.
/// </summary>
internal sealed class LiveScreen : IDisposable
{
    private const string Escape = "\u001b[";
    private readonly PSHostUserInterface _ui;
    private bool _open;

    private LiveScreen(PSHostUserInterface ui)
    {
        _ui = ui;
        _ui.Write(Escape + "?1049h" + Escape + "?25l" + Escape + "2J");
        _open = true;
    }

    /// <summary>A screen on the host's terminal, or null where none can be drawn (no terminal, output redirected, or piped on).</summary>
    public static LiveScreen? Open(PSHost host, bool outputGoesOn)
    {
        if (outputGoesOn || Console.IsOutputRedirected || host.UI is not { } ui || !ui.SupportsVirtualTerminal || ui.RawUI is null) return null;
        return new LiveScreen(ui);
    }

    /// <summary>The window's size now; 80 by 24 when the host cannot say.</summary>
    public (int Width, int Height) Size()
    {
        try
        {
            var size = _ui.RawUI.WindowSize;
            return (size.Width > 0 ? size.Width : WatchFrame.Width, size.Height > 0 ? size.Height : 24);
        }
        catch (Exception e) when (e is NotImplementedException or NotSupportedException or System.IO.IOException or InvalidOperationException)
        {
            return (WatchFrame.Width, 24);
        }
    }

    /// <summary>Draws the lines from the top left, each cleared to its end, and clears what is below them.</summary>
    public void Draw(IReadOnlyList<WatchFrame.Line> lines)
    {
        var frame = new StringBuilder(Escape + "H");
        for (var i = 0; i < lines.Count; i++)
        {
            // No line break after the last line: one at the window's bottom would scroll the screen.
            if (i > 0) frame.Append("\r\n");
            frame.Append(Colour(lines[i].Tone)).Append(lines[i].Text).Append(Escape).Append("0m").Append(Escape).Append('K');
        }
        frame.Append(Escape).Append('J');
        _ui.Write(frame.ToString());
    }

    private static string Colour(WatchFrame.Tone tone) => tone switch
    {
        WatchFrame.Tone.Title => Escape + "1m",
        WatchFrame.Tone.Header => Escape + "4m",
        WatchFrame.Tone.Dim => Escape + "2m",
        WatchFrame.Tone.Warning => Escape + "33m",
        WatchFrame.Tone.Error => Escape + "31m",
        _ => "",
    };

    /// <summary>Back to the terminal as it was: colours reset, the cursor shown, the main screen.</summary>
    public void Dispose()
    {
        if (!_open) return;
        _open = false;
        _ui.Write(Escape + "0m" + Escape + "?25h" + Escape + "?1049l");
    }
}
