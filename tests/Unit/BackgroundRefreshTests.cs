using System;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core;
using Xunit;

namespace Delayed.Tests;

/// <summary>A slow read done again in the background (the dashboard's SCAN for queues): no reader waits for it once a value is known.</summary>
public class BackgroundRefreshTests
{
    /// <summary>How long a read that should be served at once may take before the test fails rather than hangs.</summary>
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    /// <summary>A read that waits until the test lets it finish, counting how often it was started.</summary>
    private sealed class GatedRead
    {
        private TaskCompletionSource<string> _gate = New();
        private int _started;

        public int Started => Volatile.Read(ref _started);

        public Task<string> ReadAsync()
        {
            Interlocked.Increment(ref _started);
            return Volatile.Read(ref _gate).Task;
        }

        /// <summary>Ends the read under way with a value or a failure; the next read waits again.</summary>
        public void Finish(string? value)
        {
            var gate = Interlocked.Exchange(ref _gate, New());
            if (value is null) gate.SetException(new InvalidOperationException("SCAN failed"));
            else gate.SetResult(value);
        }

        private static TaskCompletionSource<string> New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [Fact]
    public async Task OnceAValueIsKnownAReaderGetsItAtOnce_WhileASlowReadRunsInTheBackground()
    {
        var read = new GatedRead();
        var refresh = new BackgroundRefresh<string>(read.ReadAsync, TimeSpan.Zero);
        var first = refresh.GetAsync();
        await Eventually.True(() => read.Started == 1, "the first read to start");
        Assert.False(first.IsCompleted); // the first reader waits: nothing is known yet
        read.Finish("queues-1");
        Assert.Equal("queues-1", await first.WaitAsync(Soon));

        // Due again at once (interval zero): a read starts, and does not finish until let.
        var during = refresh.GetAsync();
        await Eventually.True(() => read.Started == 2, "the second read to start");
        Assert.True(during.IsCompleted, "a reader waited for the read under way");
        Assert.Equal("queues-1", await during.WaitAsync(Soon));
        Assert.Equal(2, read.Started); // one read at a time
        read.Finish("queues-2");
        await Eventually.True(async () => await refresh.GetAsync().WaitAsync(Soon) == "queues-2", "the new value to be served");
    }

    [Fact]
    public async Task AFailedFirstReadIsTriedAgainByTheNextReader_AFailedLaterOneKeepsTheLastValue()
    {
        var read = new GatedRead();
        var refresh = new BackgroundRefresh<string>(read.ReadAsync, TimeSpan.FromHours(1));
        var first = refresh.GetAsync();
        await Eventually.True(() => read.Started == 1, "the first read to start");
        read.Finish(null);
        await Assert.ThrowsAsync<InvalidOperationException>(() => first.WaitAsync(Soon));

        // Nothing known: the next reader does not wait out the hour, it reads again.
        var second = refresh.GetAsync();
        await Eventually.True(() => read.Started == 2, "a second read after the failure");
        read.Finish("queues-1");
        Assert.Equal("queues-1", await second.WaitAsync(Soon));
        Assert.Equal("queues-1", await refresh.GetAsync().WaitAsync(Soon));
        Assert.Equal(2, read.Started); // within the interval, no read

        var stale = new BackgroundRefresh<string>(read.ReadAsync, TimeSpan.Zero);
        var known = stale.GetAsync();
        await Eventually.True(() => read.Started == 3, "the read of a second refresh to start");
        read.Finish("kept");
        Assert.Equal("kept", await known.WaitAsync(Soon));
        Assert.Equal("kept", await stale.GetAsync().WaitAsync(Soon));
        await Eventually.True(() => read.Started == 4, "a refresh to start");
        read.Finish(null);
        // The failure is not the readers': they keep the last value, and a later reader starts another read.
        await Eventually.True(async () => await stale.GetAsync().WaitAsync(Soon) == "kept" && read.Started == 5, "a read again after the failed one");
        read.Finish("new");
        await Eventually.True(async () => await stale.GetAsync().WaitAsync(Soon) == "new", "the new value to be served");
    }
}
