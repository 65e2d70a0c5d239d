namespace Delayed.PowerShell.Dashboard;

/// <summary>The dashboard's only script and style, served as files so that the pages need no inline code (CSP).</summary>
internal static class DashboardAssets
{
    /// <summary>Asks before a form changes anything, and reloads a page that asks for it (data-refresh, in seconds).</summary>
    public const string Script = @"'use strict';
document.addEventListener('submit', function (e) {
  var message = e.target.getAttribute('data-confirm');
  if (message && !window.confirm(message)) e.preventDefault();
});
document.addEventListener('DOMContentLoaded', function () {
  var seconds = parseInt(document.body.getAttribute('data-refresh') || '0', 10);
  if (seconds > 0) setTimeout(function () { window.location.reload(); }, seconds * 1000);
});
";

    public const string Style = @"body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
header { background: #233; color: #eee; padding: 8px 16px; }
main { padding: 8px 16px 32px; }
h1 { font-size: 22px; margin: 12px 0; } h2 { font-size: 17px; margin: 20px 0 8px; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.error pre { margin: 0; white-space: pre-wrap; max-width: 60ch; font-size: 12px; }
.bad { color: #b00; font-weight: 600; } .warn { color: #a60; font-weight: 600; }
.none, .more { color: #666; }
form.action { display: inline; margin-right: 4px; }
button { font: inherit; padding: 1px 8px; cursor: pointer; }
figure { margin: 0; } figcaption { color: #555; font-size: 12px; }
.started { color: #2a6fdb; font-weight: 600; } .failed { color: #d33; font-weight: 600; }
a { color: #1a5bb8; }
";
}
