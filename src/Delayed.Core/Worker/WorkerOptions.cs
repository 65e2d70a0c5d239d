using System;
using System.Diagnostics.CodeAnalysis;
using Delayed.Core.Codec;

namespace Delayed.Core.Worker;

/// <summary>How a worker runs. Defaults are those of the Python and Go workers (dequeue timeout 1 s, keep-alive 60 s).</summary>
public sealed class WorkerOptions
{
    /// <summary>BLPOP timeout: how long an idle slot waits before it checks for a stop request (default 1 s).</summary>
    public TimeSpan DequeueTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>TTL of the liveness key; sent as whole seconds, rounded up (default 60 s).</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The shortest keep-alive timeout: the key is refreshed every quarter of it, and a refresh needs time to arrive.</summary>
    public static readonly TimeSpan MinimumKeepAliveTimeout = TimeSpan.FromSeconds(1);

    private TimeSpan? _keepAliveInterval;

    /// <summary>How often the liveness key is refreshed (default: a quarter of the keep-alive timeout, at most 15 s).</summary>
    public TimeSpan KeepAliveInterval
    {
        get => _keepAliveInterval ?? TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(15).Ticks, KeepAliveTimeout.Ticks / 4));
        set => _keepAliveInterval = value;
    }

    /// <summary>Tasks run at once, each slot with its own worker id (default 1).</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>Stop after this many tasks; 0 for no limit.</summary>
    public long MaxTasks { get; set; }

    /// <summary>
    /// For a worker of several queues: instead of strict priority (a task of an earlier queue always first), give each
    /// busy queue a share by its place (of three: a half, a third, a sixth), so that a busy first queue starves none.
    /// </summary>
    public bool WeightedQueues { get; set; }

    /// <summary>Stop as soon as no task is waiting, instead of waiting for more.</summary>
    public bool StopWhenEmpty { get; set; }

    /// <summary>
    /// Whether each slot claims through a synchronous connection of its own while busy (<see cref="Redis.DirectConnection"/>,
    /// over TLS too). Off only to compare the two paths (tests, benchmark).
    /// </summary>
    internal bool DirectClaims { get; set; } = true;

    /// <summary>The longest wait of the worker's promoter between passes (<see cref="Scheduling.SchedulePromoter.Interval"/>); longer only in tests.</summary>
    internal TimeSpan PromotionInterval { get; set; } = Scheduling.SchedulePromoter.Interval;

    /// <summary>Longest a task may run before its cancellation token is signalled; null for no limit.</summary>
    public TimeSpan? TaskTimeout { get; set; }

    /// <summary>
    /// Base of the back-off before a failed task with retry budget runs again: attempt n waits a random time between 0
    /// and RetryDelay × 2^(n−1), at most MaxRetryDelay (exponential back-off with full jitter). Zero retries at once,
    /// as the Python and Go workers do. Default 1 s.
    /// </summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest back-off of a retry (default 1 hour).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often a task is put back for want of a handler before it counts as failed with NoHandler (default 50; it
    /// waits RetryDelay (at least a second), doubling, at most 1 minute each time: with the default 1 s, about 45 minutes
    /// in all). Generous, because which idle worker takes a task is chance: with one worker in ten able to run it, 50
    /// returns leave it unrun with a chance of 0.5 %.
    /// </summary>
    public int MaxReturns { get; set; } = 50;

    /// <summary>The longest wait of a task put back for want of a handler.</summary>
    internal static readonly TimeSpan MaxReturnDelay = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The shortest first wait of a task put back for want of a handler, whatever RetryDelay (0 retries at once): a return
    /// is for another worker, and one due at once would come back to this one again and again, through its bound of returns.
    /// </summary>
    internal static readonly TimeSpan MinReturnDelay = TimeSpan.FromSeconds(1);

    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(60);

    public PlainDataLimits Limits { get; set; } = PlainDataLimits.Default;

    /// <summary>Called, from worker threads, for every task outcome and worker error.</summary>
    public Action<WorkerEvent>? OnEvent { get; set; }

    /// <summary>
    /// Turns what a .NET handler of a tracked task returned into the output its record keeps (the host's format);
    /// without it, such a value is not kept.
    /// </summary>
    public Func<object, byte[]>? ResultSerializer { get; set; }

    internal int KeepAliveSeconds => Math.Max(1, (int)Math.Ceiling(KeepAliveTimeout.TotalSeconds));

    /// <summary>Refuses a dequeue timeout that is not positive (0 would block for ever).</summary>
    [SuppressMessage("Usage", "CA2208", Justification = "The parameter named is the option's, which the caller's error shows.")]
    public static void CheckDequeueTimeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException("DequeueTimeout", timeout, "The dequeue timeout must be positive: it bounds how long an idle worker takes to notice a stop (0 would block for ever).");
    }

    /// <summary>Refuses a keep-alive timeout under <see cref="MinimumKeepAliveTimeout"/>.</summary>
    [SuppressMessage("Usage", "CA2208", Justification = "The parameter named is the option's, which the caller's error shows.")]
    public static void CheckKeepAliveTimeout(TimeSpan timeout)
    {
        if (timeout < MinimumKeepAliveTimeout)
            throw new ArgumentOutOfRangeException("KeepAliveTimeout", timeout,
                $"The keep-alive timeout must be at least {MinimumKeepAliveTimeout.TotalSeconds:0.#} s: the liveness key is refreshed every quarter of it.");
    }

    internal void Validate()
    {
        if (Concurrency < 1) throw new ArgumentOutOfRangeException(nameof(Concurrency), Concurrency, "Concurrency must be at least 1.");
        CheckDequeueTimeout(DequeueTimeout);
        CheckKeepAliveTimeout(KeepAliveTimeout);
        if (KeepAliveInterval <= TimeSpan.Zero || KeepAliveInterval >= KeepAliveTimeout)
            throw new ArgumentOutOfRangeException(nameof(KeepAliveInterval), KeepAliveInterval, "The keep-alive interval must be positive and well below the keep-alive timeout.");
        if (RetryDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RetryDelay), RetryDelay, "The retry delay cannot be negative; 0 retries at once.");
        if (MaxRetryDelay < RetryDelay) throw new ArgumentOutOfRangeException(nameof(MaxRetryDelay), MaxRetryDelay, "The longest retry delay cannot be shorter than the retry delay.");
        if (MaxReturns < 0) throw new ArgumentOutOfRangeException(nameof(MaxReturns), MaxReturns, "MaxReturns cannot be negative.");
        if (MaxTasks < 0) throw new ArgumentOutOfRangeException(nameof(MaxTasks), MaxTasks, "MaxTasks cannot be negative.");
    }
}
