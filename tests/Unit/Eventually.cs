using System;
using System.Threading.Tasks;

namespace Delayed.Tests;

/// <summary>Waits for a condition that other threads or processes make true, failing with a message after a deadline.</summary>
internal static class Eventually
{
    public static Task True(Func<bool> condition, string failure, int seconds = 30) =>
        True(() => Task.FromResult(condition()), failure, seconds);

    public static Task True(Func<bool> condition, string failure, int seconds, Func<string> details) =>
        True(() => Task.FromResult(condition()), failure, seconds, details);

    public static async Task True(Func<Task<bool>> condition, string failure, int seconds = 30, Func<string>? details = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(details is null ? failure : $"{failure} ({details()})");
            await Task.Delay(20);
        }
    }
}
