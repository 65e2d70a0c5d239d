using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>
/// The connection through which enqueuers on the thread pool append: requests written by their callers, pipelined (any
/// number in flight), replies read by one thread of its own that completes each caller's task inline. A caller awaiting
/// one enqueue after another so continues on that reader thread and sends its next request from there: one thread woken
/// per round trip, where the multiplexer wakes its socket thread and then a pool thread for the continuation, and on busy
/// cores each wake waits for a core (sequential awaits on the pool kept a tenth of their quiet rate through the
/// multiplexer, about half here; bench/README.md, eighteenth session).
/// </summary>
/// <remarks>
/// <para>Writes made while others are in flight are not sent at once but by the reader before it next waits for a reply,
/// together: calls fanned out (<c>Task.WhenAll</c>) or many concurrent callers share one send, as with the multiplexer.</para>
/// <para>A caller's code runs on the reader thread until it next awaits. Code that holds that thread (a synchronous wait,
/// long work) while other replies are due is taken over from: after <see cref="LendLimit"/> a new reader thread reads on,
/// and the old one ends when that code returns to it. A synchronous wait on an enqueue from there so stalls for that
/// long, never deadlocks.</para>
/// <para>A reply not read within the client's timeout, a closed or failed socket fails every enqueue in flight ("may or
/// may not have been enqueued", as the multiplexer's) and rests the connection for <see cref="DirectConnection.ReopenInterval"/>,
/// callers going through the multiplexer meanwhile. A socket the server closes while nothing is in flight (its idle
/// timeout) is opened again by the next call. Once a second a call checks that the multiplexer still names this
/// server: after the primary moved between the servers configured, new calls go to the new one, and the old socket is
/// closed once its calls in flight are read.</para>
/// </remarks>
internal sealed class PipelinedEnqueueConnection : IDisposable
{
    /// <summary>How long a caller's code may hold the reader thread while replies are due before another thread reads on.</summary>
    internal static TimeSpan LendLimit { get; set; } = TimeSpan.FromMilliseconds(20);

    [ThreadStatic]
    private static bool t_reader;

    private readonly Func<EndPoint?> _endpoint;
    private readonly ConfigurationOptions _options;
    private readonly string? _clientName;
    private readonly DirectTls? _tls;
    private readonly object _gate = new();
    private readonly Timer _watch;
    private readonly int _timeoutMilliseconds;
    private Session? _session;
    private readonly ConnectionRest _rest = new();
    private int _watching;
    private bool _disposed;
    private bool _opening;

    /// <param name="endpoint">The one server that holds every key (asked at each open).</param>
    /// <param name="options">Credentials, database and timeouts (the multiplexer's).</param>
    /// <param name="clientName">The name it gives itself on the server (CLIENT SETNAME); null for none.</param>
    /// <param name="tls">How it speaks TLS, as the multiplexer does; null over plain TCP.</param>
    internal PipelinedEnqueueConnection(Func<EndPoint?> endpoint, ConfigurationOptions options, string? clientName, DirectTls? tls = null)
    {
        _tls = tls;
        _endpoint = endpoint;
        _options = options;
        _clientName = clientName;
        // The timeout of the multiplexer's asynchronous calls, which these are.
        _timeoutMilliseconds = Math.Max(1000, options.AsyncTimeout);
        _watch = new Timer(static state => ((PipelinedEnqueueConnection)state!).Watch(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>
    /// Whether the calling thread is one of these connections' readers: a caller whose code continued there after an
    /// enqueue, whose next enqueue goes here too (not through the synchronous enqueue connection, which would hold the
    /// reader through a round trip of its own).
    /// </summary>
    internal static bool OnReaderThread => t_reader;

    /// <summary>
    /// Sends the enqueue (<see cref="EnqueueTransaction"/>); its task completes when the reply is read, with the
    /// multiplexer's exceptions for a refusal or a failed connection. Null when nothing was sent: the connection rests
    /// after a failure, cannot be opened, or is disposed; the caller then uses the multiplexer.
    /// </summary>
    /// <param name="tasksKey">The queue's task list.</param>
    /// <param name="tokensKey">The queue's token list.</param>
    /// <param name="tasks">The encoded tasks, one token each.</param>
    /// <param name="queue">The queue's name, for the metrics of enqueued tasks and fallbacks.</param>
    internal Task? TryEnqueue(byte[] tasksKey, byte[] tokensKey, IReadOnlyList<byte[]> tasks, string queue)
    {
        if (_rest.Active) return null;
        lock (_gate)
        {
            if (_disposed) return null;
            var session = _session;
            // Nothing in flight and called from elsewhere than its reader (which just read from it): the server may have
            // closed it meanwhile (an idle client's timeout, a restart), found before anything is sent on it.
            if (session is not null && session.Pending.IsEmpty && !t_reader && DirectSocket.ClosedByPeer(session.Socket))
            {
                End(session, rest: false, queue);
                session = null;
            }
            // Once a second, whether the multiplexer still names this server (it follows a primary that moved between the
            // servers configured): if not, new calls go to the one it names, and this session ends once its calls are read.
            var now = Stopwatch.GetTimestamp();
            if (session is not null && now - session.CheckedAt > Stopwatch.Frequency)
            {
                session.CheckedAt = now;
                if (!Equals(_endpoint(), session.Endpoint))
                {
                    Retire(session);
                    session = null;
                }
            }
            if (session is not null) return Send(session, tasksKey, tokensKey, tasks, queue, now);
            // Another caller is opening it: this one goes through the multiplexer rather than wait for that (waiting pool
            // threads, while the open's own completion needs one, starved the pool).
            if (_opening) return null;
            _opening = true;
        }
        Session opened;
        try
        {
            opened = Open();
        }
#pragma warning disable CA1031 // Nothing was sent: the multiplexer takes the call, and reports what it finds.
        catch (Exception)
#pragma warning restore CA1031
        {
            lock (_gate) _opening = false;
            _rest.Begin(queue, "enqueue");
            return null;
        }
        lock (_gate)
        {
            _opening = false;
            if (_disposed)
            {
                Close(opened.Socket);
                return null;
            }
            _session = opened;
            return Send(opened, tasksKey, tokensKey, tasks, queue, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>Under the gate: the enqueue written on the session, sent now or by the reader (<see cref="SendWritten"/>).</summary>
    private Task<bool> Send(Session session, byte[] tasksKey, byte[] tokensKey, IReadOnlyList<byte[]> tasks, string queue, long now)
    {
        var pending = new Pending(queue, tasks.Count, now);
        var alone = session.Pending.IsEmpty;
        session.Pending.Enqueue(pending);
        try
        {
            EnqueueTransaction.Write(session.Out, tasksKey, tokensKey, tasks);
            // With others in flight the reader sends it before it next waits, with whatever else was written meanwhile.
            if (alone) session.Out.Flush();
            else session.Unflushed = true;
        }
#pragma warning disable CA1031 // Every enqueue in flight on this socket fails with the reason; none is lost silently.
        catch (Exception e)
#pragma warning restore CA1031
        {
            // Failed outside the gate, as the callers' code may run on where they are completed.
            var failed = End(session, rest: true, queue);
            var exception = EnqueueTransaction.Doubtful(e, e.Message);
            System.Threading.Tasks.Task.Run(() => FailAll(failed, exception));
            return pending.Task;
        }
        WatchSoon();
        return pending.Task;
    }

    public void Dispose()
    {
        List<Pending>? failed;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            failed = _session is { } session ? End(session, rest: false, "") : null;
        }
        _watch.Dispose();
        if (failed is not null) FailAll(failed, new ObjectDisposedException(nameof(DelayedConnection)));
    }

    /// <summary>Outside the gate (it waits for the connect): the session opened, its reader started.</summary>
    private Session Open()
    {
        var endpoint = _endpoint() ?? throw new DirectConnectionLostException("The multiplexer knows no server for the queue now.", null);
        var (socket, polled, stream, unbuffered) = DirectSocket.Open(endpoint, _options, _clientName, _tls);
        // Idle, the reader waits for as long as it takes; a reply overdue is the watch's to find.
        polled.TimeoutMilliseconds = Timeout.Infinite;
        var session = new Session(socket, stream, endpoint);
        // The reader reads through what the requests are written to (over TLS, the TLS stream); before it waits for the
        // socket, it sends what callers wrote meanwhile (encrypted, under the gate, over TLS).
        polled.BeforeRead = () => SendWritten(session);
        session.In = new BufferedStream(unbuffered, 16 * 1024);
        StartReader(session);
        return session;
    }

    private void StartReader(Session session)
    {
        var reader = new Reader();
        Volatile.Write(ref session.Reader, reader);
        new Thread(() => Read(session, reader)) { IsBackground = true, Name = "Delayed enqueue replies" }.Start();
    }

    /// <summary>The reader: each reply completes its caller's task, whose code may run on here until it next awaits.</summary>
    private void Read(Session session, Reader reader)
    {
        t_reader = true;
        try
        {
            while (true)
            {
                Exception? refusal = null;
                try
                {
                    // A redirection cannot come from the one server this connection is used with; reported as the refusal it is.
                    if (!EnqueueTransaction.ReadReply(session.In)) refusal = new RedisServerException("Redis redirected the enqueue (MOVED or ASK) on a server that is not a cluster.");
                }
                catch (RedisServerException e)
                {
                    refusal = e;
                }
                if (!session.Pending.TryDequeue(out var pending)) throw new InvalidDataException("Redis answered an enqueue that was not sent.");
                if (refusal is null) Telemetry.DelayedMetrics.TasksEnqueued(pending.Queue, pending.Count);
                Volatile.Write(ref reader.LentSince, Stopwatch.GetTimestamp());
                if (refusal is null) pending.TrySetResult(true);
                else pending.TrySetException(refusal);
                // Taken over while the caller's code held this thread: the new reader reads on, this one ends.
                if (Interlocked.Exchange(ref reader.LentSince, 0) == Reader.TakenOver) return;
                if (Volatile.Read(ref session.Retired) != 0 && session.Pending.IsEmpty)
                {
                    Close(session.Socket);
                    return;
                }
            }
        }
#pragma warning disable CA1031 // Whatever ends the reading ends the session; an exception escaping this thread would end the process.
        catch (Exception e)
#pragma warning restore CA1031
        {
            List<Pending> failed;
            Exception exception;
            lock (_gate)
            {
                var queue = session.Pending.TryPeek(out var first) ? first.Queue : "";
                exception = _disposed ? new ObjectDisposedException(nameof(DelayedConnection)) : EnqueueTransaction.Doubtful(e, session.Failure ?? e.Message);
                failed = End(session, rest: !session.Pending.IsEmpty, queue);
            }
            FailAll(failed, exception);
        }
        finally
        {
            t_reader = false;
        }
    }

    /// <summary>
    /// Under the gate: the session no longer used for new calls; closed now when nothing is in flight, else by its reader
    /// once the last reply is read (no call moves to it any more, so the last one is the last).
    /// </summary>
    private void Retire(Session session)
    {
        if (ReferenceEquals(_session, session)) _session = null;
        // A full fence between marking it and looking at what is in flight, as the reader dequeues (a fence) and then
        // looks at the mark: one of the two sees the other, so the socket is closed once its last reply is read.
        Interlocked.Exchange(ref session.Retired, 1);
        if (session.Pending.IsEmpty) Close(session.Socket);
    }

    /// <summary>
    /// Under the gate: the session closed and no longer used, its enqueues in flight taken to fail; the connection rests
    /// when enqueues failed (not when the server closed an idle socket: the next call opens another).
    /// </summary>
    private List<Pending> End(Session session, bool rest, string queue)
    {
        if (ReferenceEquals(_session, session)) _session = null;
        Close(session.Socket);
        var failed = new List<Pending>();
        while (session.Pending.TryDequeue(out var pending)) failed.Add(pending);
        if (rest && failed.Count > 0 && !_disposed) _rest.Begin(queue, "enqueue");
        return failed;
    }

    /// <summary>Closed so that a reader waiting in poll() wakes (a shutdown does; a close alone need not on Linux).</summary>
    private static void Close(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed or never connected: nothing to wake.
        }
        socket.Dispose();
    }

    /// <summary>Outside the gate: each caller's code may run on here.</summary>
    private static void FailAll(List<Pending> failed, Exception exception)
    {
        foreach (var pending in failed) pending.TrySetException(exception);
    }

    /// <summary>The reader, before it waits for more replies: what callers wrote meanwhile, sent in one go.</summary>
    private void SendWritten(Session session)
    {
        if (!Volatile.Read(ref session.Unflushed)) return;
        lock (_gate)
        {
            if (!session.Unflushed) return;
            session.Unflushed = false;
            session.Out.Flush();
        }
    }

    /// <summary>The watch runs while enqueues are in flight, every <see cref="LendLimit"/>.</summary>
    private void WatchSoon()
    {
        if (Volatile.Read(ref _watching) == 0 && Interlocked.Exchange(ref _watching, 1) == 0) _watch.Change(LendLimit, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Ends a session whose oldest enqueue waited longer than the client's timeout, and reads on with a new thread when
    /// a caller's code has held the reader longer than <see cref="LendLimit"/> while replies are due.
    /// </summary>
    private void Watch()
    {
        Volatile.Write(ref _watching, 0);
        Session? session;
        lock (_gate) session = _session;
        if (session is null || !session.Pending.TryPeek(out var oldest)) return;
        var now = Stopwatch.GetTimestamp();
        if (Elapsed(oldest.WrittenAt, now).TotalMilliseconds > _timeoutMilliseconds)
        {
            // The reader wakes to a closed socket and fails what is in flight; if the caller's code holds it, a new one does.
            session.Failure = $"Redis did not answer within {_timeoutMilliseconds} ms";
            Close(session.Socket);
        }
        var reader = Volatile.Read(ref session.Reader);
        var lentSince = Volatile.Read(ref reader.LentSince);
        if (lentSince > 0 && Elapsed(lentSince, now) >= LendLimit
            && Interlocked.CompareExchange(ref reader.LentSince, Reader.TakenOver, lentSince) == lentSince)
        {
            StartReader(session);
        }
        WatchSoon();
    }

    private static TimeSpan Elapsed(long from, long to) => TimeSpan.FromSeconds((to - from) / (double)Stopwatch.Frequency);

    /// <summary>One socket's life: its buffers, its enqueues in flight in the order sent, its current reader.</summary>
    private sealed class Session
    {
        public Session(Socket socket, BufferedStream output, EndPoint endpoint)
        {
            Socket = socket;
            Out = output;
            Endpoint = endpoint;
            CheckedAt = Stopwatch.GetTimestamp();
        }

        public Socket Socket { get; }

        /// <summary>The server it is connected to.</summary>
        public EndPoint Endpoint { get; }

        /// <summary>When the multiplexer was last asked whether it still names <see cref="Endpoint"/>; under the gate.</summary>
        public long CheckedAt;

        /// <summary>1 once no longer used for new calls: closed once the calls in flight are read.</summary>
        public int Retired;

        /// <summary>Written under the gate.</summary>
        public BufferedStream Out { get; }

        /// <summary>Read by the current reader alone.</summary>
        public BufferedStream In { get; set; } = null!;

        public ConcurrentQueue<Pending> Pending { get; } = new();

        /// <summary>Whether <see cref="Out"/> holds requests not yet sent (the reader sends them); under the gate.</summary>
        public bool Unflushed;

        public Reader Reader = null!;

        /// <summary>Why the watch ended the session (a reply overdue), told to the calls it fails; null otherwise.</summary>
        public volatile string? Failure;
    }

    /// <summary>A reader thread's state: since when a caller's code holds it (stopwatch ticks), or taken over.</summary>
    private sealed class Reader
    {
        public const long TakenOver = -1;

        public long LentSince;
    }

    /// <summary>An enqueue in flight: its caller's task, completed inline (no RunContinuationsAsynchronously).</summary>
    private sealed class Pending : TaskCompletionSource<bool>
    {
        public Pending(string queue, int count, long writtenAt)
        {
            Queue = queue;
            Count = count;
            WrittenAt = writtenAt;
        }

        public string Queue { get; }

        public int Count { get; }

        public long WrittenAt { get; }
    }
}
