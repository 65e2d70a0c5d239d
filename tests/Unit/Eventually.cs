using System;
using System.Threading.Tasks;

namespace Delayed.Tests;

/// <summary>Waits for a condition that other threads or processes make true, failing with a message after a deadline.</summary>
internal static class Eventually
{
    public static Task True(Func<bool> condition, string failure, int seconds = 30) =>
        True(() => Task.FromResult(condition()), failure, seconds);

    public static async Task True(Func<Task<bool>> condition, string failure, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(failure);
            await Task.Delay(20);
        }
    }
}
