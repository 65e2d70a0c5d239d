namespace Delayed.Core.Protocol;

/// <summary>
/// The scripts this implementation runs. They take data only through KEYS and ARGV. Each is atomic, so a
/// task is always in exactly one place: the task list, the processing hash, the schedule or the failed store.
/// Queue scripts share one KEYS layout: tasks, tokens, processing, inflight, workers, control, scheduled, failed,
/// failed data, counters, paused, tracked, tracked ended (<see cref="QueueKeys.All"/>).
/// </summary>
internal static class LuaScripts
{
    /// <summary>
    /// The server's clock, so that no client clock moves a due time. Older Redis versions need commands replicated as
    /// effects once a script reads the clock; from Redis 7 on that is all they do.
    /// </summary>
    private const string Clock = @"
if redis.replicate_commands then pcall(redis.replicate_commands) end
-- The clock in whole milliseconds, rounded down (now: a due time is due once now reaches it) and up.
local function clock_ms()
  local t = redis.call('TIME')
  local ms, us = tonumber(t[1]) * 1000, tonumber(t[2])
  return ms + math.floor(us / 1000), ms + math.ceil(us / 1000)
end
local function now_ms()
  local now = clock_ms()
  return now
end
-- When a task delayed by ms, scheduled at the clock read as now and up, falls due: a delay counts from the clock rounded
-- up, so that a task due in 2 s never falls due a fraction of a millisecond before 2 s have passed; without a delay, now.
local function due_after(ms, now, up)
  if ms > 0 then return up + ms end
  return now
end
";

    /// <summary>The failed store (needs <see cref="Clock"/>): kept by count and age, trimmed in the same step as the insert.</summary>
    private const string FailedStore = @"
local function drop_failed(ids)
  for i = 1, #ids, 1000 do
    local last = math.min(i + 999, #ids)
    redis.call('ZREM', KEYS[8], unpack(ids, i, last))
    redis.call('HDEL', KEYS[9], unpack(ids, i, last))
  end
end
local function keep_failure(fid, limit, max_age, reason, err, worker, host, attempts, task, tracked)
  limit = tonumber(limit)
  if limit <= 0 then return end
  local now = now_ms()
  local record = { now, reason, err, worker, host, tonumber(attempts) or 0, task }
  if tracked and tracked ~= '' then record[8] = tracked end
  redis.call('HSET', KEYS[9], fid, cmsgpack.pack(record))
  redis.call('ZADD', KEYS[8], now, fid)
  drop_failed(redis.call('ZRANGEBYSCORE', KEYS[8], '-inf', '(' .. (now - tonumber(max_age))))
  local over = redis.call('ZCARD', KEYS[8]) - limit
  if over > 0 then drop_failed(redis.call('ZRANGE', KEYS[8], 0, over - 1)) end
end
";

    /// <summary>
    /// The per-task counters of the counters hash, keyed by the SHA-1 of the task's bytes: 'a' attempts that failed,
    /// 'n' returns for want of a handler, 'l' recoveries from dead workers. Tasks with equal bytes share counters.
    /// bound_counters() after every write: the key lives at most 30 days from its first write, not from its last, so
    /// that entries no finish of ours deletes (tasks a Python or Go worker ended) cannot pile up on a queue whose
    /// counters are written every day. A task still waiting then counts afresh: its back-off restarts, its returns and
    /// recoveries get their bound again.
    /// </summary>
    private const string Counters = @"
local function counters_of(task)
  if redis.call('EXISTS', KEYS[10]) == 0 then return 0, 0 end
  local d = redis.sha1hex(task)
  local v = redis.call('HMGET', KEYS[10], 'a' .. d, 'n' .. d)
  return tonumber(v[1]) or 0, tonumber(v[2]) or 0
end
local function forget_counters(task)
  if redis.call('EXISTS', KEYS[10]) == 1 then
    local d = redis.sha1hex(task)
    redis.call('HDEL', KEYS[10], 'a' .. d, 'n' .. d, 'l' .. d)
  end
end
local function bound_counters()
  if redis.call('PTTL', KEYS[10]) == -1 then redis.call('PEXPIRE', KEYS[10], 2592000000) end
end
local function set_counter(kind, task, value)
  redis.call('HSET', KEYS[10], kind .. redis.sha1hex(task), value)
  bound_counters()
end
";

    /// <summary>Pushes n tokens in batches (Lua's unpack fails near 8000 values).</summary>
    private const string Tokens = @"
local function push_tokens(n)
  local ones = {}
  for i = 1, math.min(n, 1000) do ones[i] = '1' end
  while n > 0 do
    local k = math.min(n, 1000)
    redis.call('RPUSH', KEYS[2], unpack(ones, 1, k))
    n = n - k
  end
end
";

    /// <summary>
    /// The line of a tracked task's bytes (<see cref="QueueKeys.Tracked"/>): the ids of the tracked tasks with those bytes
    /// that wait in the list, oldest first, in fields of a tracked hash: 'w' + d "head tail
    /// count" (d the SHA-1 of the bytes), 'q' + d + ':' + index "id since" (since: the server's ms when it began to wait;
    /// a record written before that was kept has the id alone), 'i' + id its index. Taking, adding and removing
    /// are O(1) however many equal tasks wait (a removed id leaves a hole that the next take steps over).
    /// line_next(key, d): the oldest id, its entry deleted, since when it waited (nil when not known), and the line's
    /// new state as a field and value for the caller's next HSET, so that a claim writes it with the task's record in
    /// one command (none when the line is now empty: deleted here); or nil. Defined only where a line is read, as a
    /// closure costs.
    /// </summary>
    private const string LineNext = @"
local function line_state(key, d)
  local w = redis.call('HGET', key, 'w' .. d)
  if not w then return nil end
  local h, t, n = string.match(w, '(%d+) (%d+) (%d+)')
  return tonumber(h), tonumber(t), tonumber(n)
end
local function line_next(key, d)
  local h, t, n = line_state(key, d)
  if not h then return nil end
  while h < t do
    local slot = 'q' .. d .. ':' .. h
    local entry = redis.call('HGET', key, slot)
    h = h + 1
    if entry then
      local tid, since = string.match(entry, '^(%S+) (%d+)$')
      tid = tid or entry
      if n <= 1 then
        redis.call('HDEL', key, slot, 'i' .. tid, 'w' .. d)
        return tid, tonumber(since)
      end
      redis.call('HDEL', key, slot, 'i' .. tid)
      return tid, tonumber(since), 'w' .. d, h .. ' ' .. t .. ' ' .. (n - 1)
    end
  end
  redis.call('HDEL', key, 'w' .. d)
  return nil
end
";

    /// <summary>
    /// <see cref="LineNext"/> and the line written at once: line_take(key, d) the oldest id and since when it waited;
    /// line_set(key, d, h, t, n) a line's new state.
    /// </summary>
    private const string LineTake = LineNext + @"
local function line_set(key, d, h, t, n)
  if n <= 0 then redis.call('HDEL', key, 'w' .. d) else redis.call('HSET', key, 'w' .. d, h .. ' ' .. t .. ' ' .. n) end
end
local function line_take(key, d)
  local tid, since, field, value = line_next(key, d)
  if field then redis.call('HSET', key, field, value) end
  return tid, since
end
";

    /// <summary>
    /// Tracked tasks (needs <see cref="Clock"/>; KEYS[12] the tracked hash, KEYS[13] the ended set, <see cref="QueueKeys.Tracked"/>).
    /// track_wait(tid, task[, now, keep]): the task now waits in the list with these bytes, its id at the end of their
    /// line (now: the server's ms if already read; keep: its record's retention, written with it). line_remove: an id
    /// leaves its line (stopped). track_end: it ended as state says, with output; its record is kept for its 'k' ms
    /// (default a day), and records past theirs go.
    /// </summary>
    private const string Tracking = LineTake + @"
local function track_wait(tid, task, now, keep)
  local d = redis.sha1hex(task)
  local h, t, n = line_state(KEYS[12], d)
  if not h then h, t, n = 0, 0, 0 end
  local line, slot, entry = h .. ' ' .. (t + 1) .. ' ' .. (n + 1), 'q' .. d .. ':' .. t, tid .. ' ' .. (now or now_ms())
  if keep then
    redis.call('HSET', KEYS[12], 'w' .. d, line, slot, entry, 'i' .. tid, t, 's' .. tid, cmsgpack.pack({ 'q' }), 'b' .. tid, task, 'k' .. tid, keep)
  else
    redis.call('HSET', KEYS[12], 'w' .. d, line, slot, entry, 'i' .. tid, t, 's' .. tid, cmsgpack.pack({ 'q' }), 'b' .. tid, task)
  end
end
local function line_remove(tid, task)
  local i = redis.call('HGET', KEYS[12], 'i' .. tid)
  if not i then return end
  local d = redis.sha1hex(task)
  redis.call('HDEL', KEYS[12], 'q' .. d .. ':' .. i, 'i' .. tid)
  local h, t, n = line_state(KEYS[12], d)
  if h then line_set(KEYS[12], d, h, t, n - 1) end
end
local function track_trim(now)
  local gone = redis.call('ZRANGEBYSCORE', KEYS[13], '-inf', now, 'LIMIT', 0, 200)
  for i = 1, #gone do
    -- A unique task's window names it ('u' + member, 'v' + id the other way): that goes with the record, if still its.
    local member = redis.call('HGET', KEYS[12], 'v' .. gone[i])
    if member and redis.call('HGET', KEYS[12], 'u' .. member) == gone[i] then redis.call('HDEL', KEYS[12], 'u' .. member) end
    redis.call('HDEL', KEYS[12], 's' .. gone[i], 'b' .. gone[i], 'k' .. gone[i], 'o' .. gone[i], 'v' .. gone[i])
  end
  if #gone > 0 then redis.call('ZREM', KEYS[13], unpack(gone)) end
end
local function track_end(tid, now, state, output, keep)
  if keep == nil then keep = redis.call('HGET', KEYS[12], 'k' .. tid) end
  keep = tonumber(keep) or 86400000
  redis.call('HSET', KEYS[12], 's' .. tid, state, 'o' .. tid, output or '')
  redis.call('ZADD', KEYS[13], now + keep, tid)
  track_trim(now)
end
";

    /// <summary>
    /// Tracked tasks that a worker keeping no records (Python, Go) took (needs <see cref="Tracking"/>): such a worker pops
    /// a copy from the list and leaves its line alone, so a line may hold no more ids than the list holds copies of its
    /// bytes, and the oldest ids beyond that were taken (those workers pop the head). line_bytes(d): the bytes of line d,
    /// read from the record of an id in it, or nil. track_taken(tid, now): its record ends ['g', now]. reconcile_line(d,
    /// task, now, length): those oldest ids leave the line and are taken; returns them, and how many list entries the count compared. The count is one
    /// LPOS, a scan of the list (length long) that stops at as many copies as the line holds ids: on a long list it blocks
    /// Redis for ~3 ms per 100,000 tasks, so callers bound how many they make.
    /// </summary>
    private const string ReconcileLine = @"
local function track_taken(tid, now)
  track_end(tid, now, cmsgpack.pack({ 'g', now }), '')
end
local function line_bytes(d)
  local h, t = line_state(KEYS[12], d)
  if not h then return nil end
  for at = h, t - 1 do
    local entry = redis.call('HGET', KEYS[12], 'q' .. d .. ':' .. at)
    if entry then return redis.call('HGET', KEYS[12], 'b' .. string.match(entry, '^(%S+)')) end
  end
  return nil
end
local function reconcile_line(d, task, now, length)
  local taken = {}
  local h, t, n = line_state(KEYS[12], d)
  if not n or n <= 0 then return taken, 0 end
  local copies = redis.call('LPOS', KEYS[1], task, 'COUNT', n)
  for _ = 1, n - #copies do
    local tid = line_take(KEYS[12], d)
    if not tid then break end
    track_taken(tid, now)
    taken[#taken + 1] = tid
  end
  if #copies == n then return taken, copies[n] + 1 end
  return taken, length
end
";

    /// <summary>
    /// A sweep's share of <see cref="ReconcileLine"/>: reconcile_lines(budget, count, pages) looks at the next lines and
    /// running entries ('w' and 'r' fields: up to pages HSCANs of about count fields of the tracked hash; the cursor, and
    /// the fields of its page already looked at, kept in field 'z' between sweeps, so that every one gets its turn however
    /// many sweepers run, and -Once sweeps too), one LPOS each while their scans stay within budget list entries (the
    /// first whatever it costs). A running entry whose worker holds no task any more was left by a Python or Go sweeper
    /// that recovered the task (reconcile_running): the task waits tracked again if an unaccounted copy of it waits in the
    /// list, else it was taken. Returns how many tasks it found taken. Without it, a tracked task that such a worker or
    /// sweeper moved while no caller's job waited on it would keep its record queued or running for ever.
    /// </summary>
    private const string ReconcileLines = ReconcileLine + @"
local function reconcile_running(worker, tid, length)
  if redis.call('HEXISTS', KEYS[3], worker) == 1 then return 0, 0 end
  -- Our finishes and recoveries delete this entry with the worker's in-flight one: a Python or Go sweeper moved the task.
  redis.call('HDEL', KEYS[12], 'r' .. worker, 'c' .. worker)
  local raw, task = unpack(redis.call('HMGET', KEYS[12], 's' .. tid, 'b' .. tid))
  if not raw or not task or cmsgpack.unpack(raw)[1] ~= 'r' then return 0, 0 end
  local h, t, n = line_state(KEYS[12], redis.sha1hex(task))
  n = n or 0
  local copies = redis.call('LPOS', KEYS[1], task, 'COUNT', n + 1)
  if #copies > n then
    -- A copy waits that no line accounts for: this one, back in the list; it waits again as tracked.
    track_wait(tid, task)
    return 0, copies[n + 1] + 1
  end
  local now = now_ms()
  track_taken(tid, now)
  return 1, length
end
local function reconcile_lines(budget, count, pages)
  local length, found, spent = redis.call('LLEN', KEYS[1]), 0, 0
  local cursor, done = '0', 0
  local at = redis.call('HGET', KEYS[12], 'z')
  if at then
    local c, k = string.match(at, '^(%d+) (%d+)$')
    if c then cursor, done = c, tonumber(k) end
  end
  for _ = 1, pages do
    local fields, line = redis.call('HSCAN', KEYS[12], cursor, 'MATCH', '[rw]*', 'COUNT', count), 0
    for i = 1, #fields[2], 2 do
      line = line + 1
      if line > done then
        if spent > 0 and spent + length > budget then
          redis.call('HSET', KEYS[12], 'z', cursor .. ' ' .. (line - 1))
          return found
        end
        local name = fields[2][i]
        if string.sub(name, 1, 1) == 'w' then
          local d = string.sub(name, 2)
          local task = line_bytes(d)
          if task then
            local taken, cost = reconcile_line(d, task, now_ms(), length)
            spent = spent + cost
            found = found + #taken
          end
        else
          local ended, cost = reconcile_running(string.sub(name, 2), fields[2][i + 1], length)
          spent = spent + cost
          found = found + ended
        end
      end
    end
    cursor, done = fields[1], 0
    if cursor == '0' then
      redis.call('HDEL', KEYS[12], 'z')
      return found
    end
  end
  redis.call('HSET', KEYS[12], 'z', cursor .. ' 0')
  return found
end
";

    /// <summary>
    /// The end of a claim that found a task, when tracked tasks wait in its queue (the key exists only while some do):
    /// the task's id, the oldest of its bytes' line, recorded as running with the line's new state in one command; or,
    /// for a task handed back, the id its claim recorded. Returns the task as tracked, src its source (0 for a worker
    /// of one queue), with how long it waited when its line entry says; falls through for an untracked task. Needs
    /// task, attempts, returns, tracking (the tracked hash) and src.
    /// </summary>
    private const string ClaimTracked = @"
if redis.call('EXISTS', tracking) == 1 then
  if handed then
    local tracked = redis.call('HGET', tracking, 'r' .. id)
    if tracked then return { 'task', task, attempts, returns, src, tracked } end
  else
" + LineNext + @"
    local tracked, since, field, value = line_next(tracking, redis.sha1hex(task))
    if tracked then
      local running = cmsgpack.pack({ 'r', id, ARGV[3] })
      if field then
        redis.call('HSET', tracking, field, value, 'r' .. id, tracked, 's' .. tracked, running)
      else
        redis.call('HSET', tracking, 'r' .. id, tracked, 's' .. tracked, running)
      end
      if not since then return { 'task', task, attempts, returns, src, tracked } end
      -- Its wait, for the worker's histogram. TIME last: no write may follow it before Redis 5's effects replication.
      local c = redis.call('TIME')
      return { 'task', task, attempts, returns, src, tracked, tonumber(c[1]) * 1000 + math.floor(tonumber(c[2]) / 1000) - since }
    end
  end
end
";

    /// <summary>
    /// Finishes the task a worker holds and claims the next one, in one round trip.
    /// ARGV: 1 worker id, 2 mode, 3 new claim stamp, 4 stamp of the task to finish ('' for none), 5 how to finish it,
    /// 6 the largest task in bytes; and only when finishing otherwise than by 'release': 7 host, 8 failed-store
    /// limit, 9 its age limit in ms, 10 bytes put back, 11 delay in ms, 12 schedule entry id, 13 the counter to set
    /// for the bytes put back ('a' or 'n', '' for none), 14 its value (for 'fail', the attempts), 15 failure reason,
    /// 16 error; for a tracked task (whatever the finish) also 17 its id, 18 its output, 19 the attempt, 20 its duration
    /// in ms (a release with reason 'Stopped' records it stopped, why in 16). How: 'release'; 'requeue' (bytes 10 to the tail now); 'schedule' (bytes 10 into the schedule, due in
    /// 11 ms, as entry 12, for a tracked task its id); 'fail' (the held task into the failed store, under the worker id
    /// and the finished claim's stamp, which are unique). A tracked task's record follows it (<see cref="Tracking"/>).
    /// Mode 'none' only finishes; 'token' claims only if a token can be taken now (never blocks);
    /// 'taken' claims after the caller already took a token with BLPOP; 'waited' (with a fourteenth key, the waking list)
    /// runs right behind the caller's BRPOPLPUSH of a token to that list, whether the wait moved one or timed out: it
    /// claims as 'taken' with a token it takes from there, and returns false without one; a worker of several queues adds '?' to 'token' or 'taken'
    /// after a call whose reply it did not get, so that a task that call claimed is handed back.
    /// The finish happens only if the worker still holds the claim it names, so a repeated call (after a
    /// lost reply) or a task an admin already restored is never released or re-enqueued twice. The finished task's
    /// entries under the id are overwritten by a task claimed from its queue, else deleted before the script returns. A task
    /// already recorded under the id (a claim whose reply was lost) is handed back rather than overwritten.
    /// A stop request for the id returns {'stop'} instead of a task. A worker whose liveness key (its id) is gone
    /// (expired while its process was paused, or lost by Redis) gets {'unregistered'}: a task it took now could be
    /// swept from under it. A paused queue (KEYS[11] exists) hands out no new task: {'paused'}. A task over the size limit is claimed but not sent: {'oversize', size}; the worker
    /// then finishes it as a failure, so its bytes go to the failed store without ever leaving Redis. An empty task list returns false and changes nothing; a surplus token is simply
    /// consumed. A claimed task comes back as its bytes, or as {'task', bytes, attempts, returns} when its
    /// counters are set, or as {'task', bytes, attempts, returns, n, id[, waited ms]} when it is tracked (its id taken
    /// from the line of its bytes, its record now running; how long it waited there, when its line entry says). With more than fourteen KEYS (a worker of several queues), the first
    /// thirteen are this queue's (the held task's), then six per other queue to claim from, in the order to try them
    /// (tasks, tokens, processing, inflight, counters, tracked), then the paused keys of all of them in that order;
    /// ARGV[2] then starts with this queue's place in that order ('1:token'): a task then comes back as {'task', bytes, attempts, returns, n[, id]}
    /// (a plain task of the first queue as its bytes alone) and an oversize one as {'oversize', size, n}, n the 1-based
    /// position of its queue in the order; no task, with some of the queues (not all) paused, as {'paused-some', n...},
    /// their positions.
    /// </summary>
    public const string FinishAndClaim = @"
local id = ARGV[1]
-- The hot path (a release, no counters) defines no function but the two below and reads no clock.
local counted = redis.call('EXISTS', KEYS[10]) == 1
local tid = ARGV[17]
-- A finished task's entries under the id (processing, in flight) are overwritten by a claim from its queue, which
-- saves a busy worker two commands per task; held is true until they are, and forget_held deletes them when no
-- task from that queue follows.
local held = false
local function forget_held()
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  held = false
end
if ARGV[4] ~= '' and redis.call('HGET', KEYS[4], id) == ARGV[4] then
  local how = ARGV[5]
  if how ~= 'release' or counted or tid then
" + Clock + FailedStore + Counters + Tracking + @"
    local task = redis.call('HGET', KEYS[3], id)
    -- A back-off's end, one time for the schedule and the tracked record alike.
    local due = how == 'schedule' and due_after(tonumber(ARGV[11]), clock_ms())
    -- Whether the worker still runs the tracked task it names, and how long its record is kept, in one command.
    local record = tid and tid ~= '' and redis.call('HMGET', KEYS[12], 'r' .. id, 'k' .. tid)
    if record and record[1] == tid then
      redis.call('HDEL', KEYS[12], 'r' .. id, 'c' .. id)
      local now, keep = now_ms(), record[2]
      if how == 'release' and ARGV[15] == 'Stopped' then
        track_end(tid, now, cmsgpack.pack({ 'x', now, ARGV[16], tonumber(ARGV[19]), tonumber(ARGV[20]), id }), ARGV[18], keep)
      elseif how == 'release' then
        track_end(tid, now, cmsgpack.pack({ 'c', now, tonumber(ARGV[19]), tonumber(ARGV[20]), id }), ARGV[18], keep)
      elseif how == 'fail' then
        track_end(tid, now, cmsgpack.pack({ 'f', now, tonumber(ARGV[19]), ARGV[15], ARGV[16], id }), ARGV[18], keep)
      elseif how == 'requeue' then
        track_wait(tid, ARGV[10])
      elseif how == 'schedule' then
        redis.call('HSET', KEYS[12], 's' .. tid, cmsgpack.pack({ 'd', due }), 'b' .. tid, ARGV[10])
      end
    end
    if how == 'requeue' then
      redis.call('RPUSH', KEYS[1], ARGV[10])
      redis.call('RPUSH', KEYS[2], '1')
    elseif how == 'schedule' then
      redis.call('ZADD', KEYS[7], due, ARGV[12] .. ARGV[10])
    elseif how == 'fail' and task then
      keep_failure(id .. ':' .. ARGV[4], ARGV[8], ARGV[9], ARGV[15], ARGV[16], id, ARGV[7], ARGV[14], task, tid)
    end
    local recount = how ~= 'release' and how ~= 'fail' and ARGV[13] ~= ''
    if task and counted and (how == 'release' or how == 'fail' or recount) then forget_counters(task) end
    if recount then
      set_counter(ARGV[13], ARGV[10], ARGV[14])
      counted = true
    end
  end
  held = true
end
-- The claim; whatever it answers, the finished task's entries are gone or overwritten after it.
local function claim()
  if ARGV[2] == 'none' then return false end
  -- The mode, 'token' (take a token if there is one), 'taken' (the caller took one) or 'waited' (the caller's wait, right
  -- before, moved one to KEYS[14] or timed out), ends in '?' after a call whose
  -- reply was lost: a task already recorded under the id is then handed back. Otherwise none should be, and HSETNX
  -- below makes sure that none is overwritten, without a command of its own. A call that finished the task it named
  -- follows no lost claim (that claim would have replaced the stamp it matched): nothing to hand back then.
  local mode, recheck = ARGV[2], false
  if string.byte(mode, -1) == 63 then mode, recheck = string.sub(mode, 1, -2), not held end
  -- Whether the task answered is one the worker held already (handed back): a tracked one keeps the id it has.
  local handed = false
  if #KEYS > 14 then
    -- Several queues, n of them: KEYS 1-13 are this queue's (the held task's, finished above, or else the first to
    -- claim from); then, for each other queue in the order to try them, six keys: tasks, tokens, processing, inflight,
    -- counters, tracked; then the n paused keys, all queues' in that order. ARGV[2] is this queue's place in the
    -- order, ':', the mode ('token'; never 'taken'). The first four keys of a queue are KEYS[o + 1] to KEYS[o + 4],
    -- o = 0 for this queue, else 13 + 6 * k. (No function for the offset: a closure per call costs.)
    local h = tonumber(string.match(mode, '^%d+'))
    local n = (#KEYS - 7) / 7
    local p = 7 + 6 * n
    -- A stop request is written to every queue of the worker (RequestStop): this queue's tells.
    if redis.call('HEXISTS', KEYS[6], id) == 1 then return { 'stop' } end
    if redis.call('EXISTS', id) == 0 then return { 'unregistered' } end
    local task, from, o = nil, nil, 0
    -- After a call whose reply was lost, a task already recorded under the id, in any of the queues, is handed back.
    if recheck then
      for q = 0, n - 1 do
        o = q == h and 0 or 13 + 6 * (q < h and q or q - 1)
        task = redis.call('HGET', KEYS[o + 3], id)
        if task then
          from, handed = q, true
          break
        end
      end
    end
    local paused = nil
    if not task then
      -- One command tells whether any queue is paused: an empty queue before the one with a task then costs one.
      local some = redis.call('EXISTS', unpack(KEYS, p + 1, p + n)) > 0
      for q = 0, n - 1 do
        o = q == h and 0 or 13 + 6 * (q < h and q or q - 1)
        if some and redis.call('EXISTS', KEYS[p + 1 + q]) == 1 then
          paused = paused or {}
          paused[#paused + 1] = q + 1
        elseif redis.call('LPOP', KEYS[o + 2]) then
          task = redis.call('LPOP', KEYS[o + 1])
          if task then
            if held and o == 0 then
              redis.call('HSET', KEYS[3], id, task)
              held = false
            elseif redis.call('HSETNX', KEYS[o + 3], id, task) == 0 then
              -- Held already (a lost reply not known as such): put back, the one held handed back, as below for one queue.
              redis.call('LPUSH', KEYS[o + 1], task)
              redis.call('RPUSH', KEYS[o + 2], '1')
              task, handed = redis.call('HGET', KEYS[o + 3], id), true
            end
            from = q
            break
          end
        end
      end
    end
    if not task then
      -- Which queues are paused, so that the worker's wait leaves their tokens alone (else they wake it at once).
      if paused and #paused == n then return { 'paused' } end
      if paused then return { 'paused-some', unpack(paused) } end
      return false
    end
    local counters, tracking = KEYS[10], KEYS[12]
    if from ~= h then counters, tracking = KEYS[o + 5], KEYS[o + 6] end
    -- The finished task's entries go now, before a tracked claim reads the clock (no write may follow that before Redis 5).
    if held then forget_held() end
    redis.call('HSET', KEYS[o + 4], id, ARGV[3])
    if #task > tonumber(ARGV[6]) then return { 'oversize', #task, from + 1 } end
    local attempts, returns = 0, 0
    local hascounters = counted
    if from ~= h then hascounters = redis.call('EXISTS', counters) == 1 end
    if hascounters then
      local d = redis.sha1hex(task)
      local v = redis.call('HMGET', counters, 'a' .. d, 'n' .. d)
      attempts, returns = tonumber(v[1]) or 0, tonumber(v[2]) or 0
    end
    local src = from + 1
" + ClaimTracked + @"
    -- The first queue's plain task as a single queue's: its bytes alone.
    if from == 0 and attempts == 0 and returns == 0 then return task end
    return { 'task', task, attempts, returns, from + 1 }
  end
  if mode == 'waited' then
    -- Only with a token the wait moved: after a timeout, a task in the list may be one whose token a peer has taken and
    -- whose claim is on its way; taking it would leave that claim a token without a task.
    if not redis.call('LPOP', KEYS[14]) then return false end
    mode = 'taken'
  end
  if redis.call('HEXISTS', KEYS[6], id) == 1 then
    if mode == 'taken' then redis.call('RPUSH', KEYS[2], '1') end
    return { 'stop' }
  end
  if redis.call('EXISTS', id) == 0 then
    if mode == 'taken' then redis.call('RPUSH', KEYS[2], '1') end
    return { 'unregistered' }
  end
  local task = recheck and redis.call('HGET', KEYS[3], id) or nil
  if task then
    handed = true
    if mode == 'taken' then redis.call('RPUSH', KEYS[2], '1') end
  else
    if redis.call('EXISTS', KEYS[11]) == 1 then
      if mode == 'taken' then redis.call('RPUSH', KEYS[2], '1') end
      return { 'paused' }
    end
    if mode == 'token' and not redis.call('LPOP', KEYS[2]) then return false end
    task = redis.call('LPOP', KEYS[1])
    if not task then return false end
    if held then
      redis.call('HSET', KEYS[3], id, task)
      held = false
    elseif redis.call('HSETNX', KEYS[3], id, task) == 0 then
      -- The worker holds a task already, claimed by a call whose reply it never had: the task popped goes back to the
      -- head with its token, and the one held is handed back rather than overwritten.
      redis.call('LPUSH', KEYS[1], task)
      redis.call('RPUSH', KEYS[2], '1')
      task, handed = redis.call('HGET', KEYS[3], id), true
    end
  end
  redis.call('HSET', KEYS[4], id, ARGV[3])
  if #task > tonumber(ARGV[6]) then return { 'oversize', #task } end
  local attempts, returns = 0, 0
  if counted then
    local d = redis.sha1hex(task)
    local v = redis.call('HMGET', KEYS[10], 'a' .. d, 'n' .. d)
    attempts, returns = tonumber(v[1]) or 0, tonumber(v[2]) or 0
  end
  local tracking, src = KEYS[12], 0
" + ClaimTracked + @"
  if attempts > 0 or returns > 0 then return { 'task', task, attempts, returns } end
  return task
end
local reply = claim()
if held then forget_held() end
return reply
";

    /// <summary>
    /// One sweep of a queue. ARGV: 1 the queue's hash tag ('' for none), 2 the recoveries after which a task counts
    /// as lost (0: never), 3 a failed-store id prefix, 4 failed-store limit, 5 its age limit in ms, 6 the list entries its
    /// look for tracked tasks taken untracked may compare, 7 and 8 how many fields of the tracked hash one HSCAN of that look
    /// reads, and at most how many HSCANs it makes.
    /// Checks first, writes after, so that an error cannot leave half a sweep: an in-flight entry under an id
    /// outside the queue's cluster slot (a Python or Go worker there) is skipped and counted. Moves the task of
    /// every worker whose liveness key is gone (EXISTS, so that a key of another type is not an error) back to the
    /// tail, or, once the same bytes were recovered more often than the bound, into the failed store as WorkerLost.
    /// Drops extension entries of gone workers and in-flight stamps that no longer match a held task, then brings
    /// the token count to the task count: missing tokens pushed in bounded batches, surplus ones trimmed (safe
    /// because every enqueuer pushes a task no later than its token). Looks at the next page of the tracked tasks' lines
    /// for tasks a worker keeping no records took (<see cref="ReconcileLines"/>).
    /// Returns { tasks recovered, token adjustment, entries skipped, tasks failed as lost, tracked tasks found taken
    /// untracked[, why that look failed] }.
    /// </summary>
    public const string Sweep = Clock + FailedStore + Counters + Tokens + Tracking + ReconcileLines + @"
local tag = ARGV[1]
local tracking = redis.call('EXISTS', KEYS[12]) == 1
local function checkable(id) return tag == '' or string.sub(id, 1, #tag) == tag end
local entries = redis.call('HGETALL', KEYS[3])
local dead, skipped = {}, 0
for i = 1, #entries, 2 do
  if not checkable(entries[i]) then skipped = skipped + 1
  elseif redis.call('EXISTS', entries[i]) == 0 then dead[#dead + 1] = i end
end
local recovered, lost = 0, 0
local bound = tonumber(ARGV[2])
for _, i in ipairs(dead) do
  local id, task = entries[i], entries[i + 1]
  local times = 0
  if bound > 0 then
    times = redis.call('HINCRBY', KEYS[10], 'l' .. redis.sha1hex(task), 1)
    bound_counters()
  end
  local tid = tracking and redis.call('HGET', KEYS[12], 'r' .. id)
  if tid then redis.call('HDEL', KEYS[12], 'r' .. id, 'c' .. id) end
  if bound > 0 and times > bound then
    local attempts = counters_of(task)
    local why = 'Its worker died while running it ' .. times .. ' times (the liveness key expired): it may crash or kill its worker.'
    keep_failure(ARGV[3] .. lost, ARGV[4], ARGV[5], 'WorkerLost', why, id, '', attempts, task, tid)
    forget_counters(task)
    if tid then track_end(tid, now_ms(), cmsgpack.pack({ 'f', now_ms(), attempts, 'WorkerLost', why, id }), '') end
    lost = lost + 1
  else
    redis.call('RPUSH', KEYS[1], task)
    if tid then track_wait(tid, task) end
    recovered = recovered + 1
  end
  redis.call('HDEL', KEYS[3], id)
end
if redis.call('EXISTS', KEYS[13]) == 1 then track_trim(now_ms()) end
local stamps = redis.call('HKEYS', KEYS[4])
for i = 1, #stamps do
  if redis.call('HEXISTS', KEYS[3], stamps[i]) == 0 then redis.call('HDEL', KEYS[4], stamps[i]) end
end
for k = 5, 6 do
  local ids = redis.call('HKEYS', KEYS[k])
  for i = 1, #ids do
    if checkable(ids[i]) and redis.call('EXISTS', ids[i]) == 0 then redis.call('HDEL', KEYS[k], ids[i]) end
  end
end
local diff = redis.call('LLEN', KEYS[1]) - redis.call('LLEN', KEYS[2])
if diff > 0 then push_tokens(diff)
elseif diff < 0 then redis.call('LTRIM', KEYS[2], -diff, -1) end
-- Last and apart: should it fail (no LPOS before Redis 6.0.6; an account without HSCAN or LPOS), the sweep's own work
-- above is done and stays done, and the reply says why.
local ok, untracked = true, 0
if redis.call('EXISTS', KEYS[12]) == 1 then ok, untracked = pcall(reconcile_lines, tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])) end
if not ok then
  return { recovered, diff, skipped, lost, 0, type(untracked) == 'table' and untracked.err or tostring(untracked) }
end
return { recovered, diff, skipped, lost, untracked }
";

    /// <summary>
    /// Moves due tasks from the schedule to the tail of the task list, with one token each, at most ARGV[1] of
    /// them. A schedule entry is a 16-character id followed by the task's exact bytes; a tracked task's id is its
    /// entry's, and its record follows it into the list. Also finds up to ARGV[2] due ticks of recurring schedules
    /// (KEYS[14] due set, KEYS[15] definitions); a paused queue (KEYS[11]) holds both, which the caller fires (FireTick), so
    /// that an idle second costs one round trip for both. Returns { moved, server now (ms), the soonest due time still
    /// to come (ms, -1 for none), then name, tick (ms) and definition of each due tick }.
    /// </summary>
    public const string Promote = Clock + Tokens + Tracking + @"
local now = now_ms()
if redis.call('EXISTS', KEYS[11]) == 1 then return { 0, now, -1 } end
local due = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #due > 0 then
  local tracking = redis.call('EXISTS', KEYS[12]) == 1
  for i = 1, #due do
    local task = string.sub(due[i], 17)
    redis.call('RPUSH', KEYS[1], task)
    if tracking then
      local tid = string.sub(due[i], 1, 16)
      if redis.call('HEXISTS', KEYS[12], 's' .. tid) == 1 then track_wait(tid, task) end
    end
  end
  for i = 1, #due, 1000 do redis.call('ZREM', KEYS[7], unpack(due, i, math.min(i + 999, #due))) end
  push_tokens(#due)
end
local soonest = -1
for _, key in ipairs({ KEYS[7], KEYS[14] }) do
  local first = redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #first > 0 and (soonest < 0 or tonumber(first[2]) < soonest) then soonest = tonumber(first[2]) end
end
local reply = { #due, now, soonest }
local ticks = redis.call('ZRANGEBYSCORE', KEYS[14], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
for i = 1, #ticks, 2 do
  reply[#reply + 1] = ticks[i]
  reply[#reply + 1] = ticks[i + 1]
  reply[#reply + 1] = redis.call('HGET', KEYS[15], ticks[i]) or ''
end
return reply
";

    /// <summary>
    /// Enqueues or schedules tasks that are unique within a window. KEYS: laid out as <see cref="QueueKeys.All"/> (1 tasks,
    /// 2 tokens, 7 schedule, 12 tracked, 13 tracked ended; the others unused), then 14 the unique set. ARGV in sevens: the
    /// uniqueness member ('' for the SHA-1 of the task's bytes), the window in ms, 'now' | 'in' | 'at', the delay or time
    /// in ms, the task's bytes ('now') or its schedule entry (a 16-character id and the bytes), the id to track it by
    /// ('' untracked; a scheduled tracked task's entry id is that id) and how long to keep its record (ms). A task whose
    /// member's window has not ended is skipped. Returns per task 1 (enqueued to run now), its due time in unix ms
    /// (scheduled: always more than 1), or, skipped, the id of the tracked task that holds the window ('u' + member in the
    /// tracked hash, 'v' + id the member: they go when the window ends while the set lives, or with the task's record), or 0.
    /// </summary>
    public const string EnqueueUnique = Clock + Tracking + @"
local now, up = clock_ms()
if redis.call('EXISTS', KEYS[12]) == 1 then
  local ended = redis.call('ZRANGEBYSCORE', KEYS[14], '-inf', now)
  for i = 1, #ended do redis.call('HDEL', KEYS[12], 'u' .. ended[i]) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[14], '-inf', now)
local done = {}
local longest = 0
for i = 1, #ARGV, 7 do
  local mode, payload, tid = ARGV[i + 2], ARGV[i + 4], ARGV[i + 5]
  local bytes = payload
  if mode ~= 'now' then bytes = string.sub(payload, 17) end
  local member = ARGV[i]
  if member == '' then member = 'b:' .. redis.sha1hex(bytes) end
  if redis.call('ZSCORE', KEYS[14], member) then
    done[#done + 1] = redis.call('HGET', KEYS[12], 'u' .. member) or 0
  else
    local window = tonumber(ARGV[i + 1])
    redis.call('ZADD', KEYS[14], now + window, member)
    if window > longest then longest = window end
    if tid ~= '' then redis.call('HSET', KEYS[12], 'k' .. tid, ARGV[i + 6], 'u' .. member, tid, 'v' .. tid, member) end
    if mode == 'now' then
      redis.call('RPUSH', KEYS[1], payload)
      redis.call('RPUSH', KEYS[2], '1')
      if tid ~= '' then track_wait(tid, payload) end
    else
      local due = tonumber(ARGV[i + 3])
      if mode == 'in' then due = due_after(due, now, up) end
      redis.call('ZADD', KEYS[7], due, payload)
      if tid ~= '' then redis.call('HSET', KEYS[12], 's' .. tid, cmsgpack.pack({ 'd', due }), 'b' .. tid, bytes) end
      done[#done + 1] = due
    end
    if mode == 'now' then done[#done + 1] = 1 end
  end
end
if longest > 0 and redis.call('PTTL', KEYS[14]) < longest then redis.call('PEXPIRE', KEYS[14], longest) end
return done
";

    /// <summary>Pauses the queue: KEYS[1] the paused key, ARGV[1] the reason. Returns 1, or 0 when it was paused already (kept as it was).</summary>
    public const string Pause = Clock + @"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], cmsgpack.pack({ now_ms(), ARGV[1] }))
return 1
";

    /// <summary>
    /// Fires one tick of a recurring schedule, once however many callers race: only while the schedule's due score is
    /// still the tick (ARGV[2]) and its definition still the one read (ARGV[3]). Then enqueues the task ARGV[4] with
    /// a token (none when ''), moves the due score to ARGV[5] (removed when ''), and records [fired at, tick, outcome
    /// ARGV[6], ticks fired so far]. A unique schedule (window ARGV[8] ms &gt; 0, member ARGV[7], '' for the task's bytes)
    /// enqueues nothing while a task of its key is within its window: outcome 'Duplicate'. KEYS: tasks, tokens,
    /// definitions, due set, runs, unique set. Returns 1 when fired, 0 when not.
    /// </summary>
    public const string FireTick = Clock + @"
local score = redis.call('ZSCORE', KEYS[4], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[3] then return 0 end
local fired = 0
local last = redis.call('HGET', KEYS[5], ARGV[1])
if last then
  local ok, state = pcall(cmsgpack.unpack, last)
  if ok and type(state) == 'table' then fired = tonumber(state[4]) or 0 end
end
local outcome = ARGV[6]
if ARGV[4] ~= '' and tonumber(ARGV[8]) > 0 then
  local now = now_ms()
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
  local member = ARGV[7]
  if member == '' then member = 'b:' .. redis.sha1hex(ARGV[4]) end
  if redis.call('ZSCORE', KEYS[6], member) then
    outcome = 'Duplicate'
  else
    redis.call('ZADD', KEYS[6], now + tonumber(ARGV[8]), member)
    if redis.call('PTTL', KEYS[6]) < tonumber(ARGV[8]) then redis.call('PEXPIRE', KEYS[6], ARGV[8]) end
  end
end
if ARGV[4] ~= '' and outcome ~= 'Duplicate' then
  redis.call('RPUSH', KEYS[1], ARGV[4])
  redis.call('RPUSH', KEYS[2], '1')
  fired = fired + 1
end
if ARGV[5] == '' then redis.call('ZREM', KEYS[4], ARGV[1]) else redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1]) end
redis.call('HSET', KEYS[5], ARGV[1], cmsgpack.pack({ now_ms(), tonumber(ARGV[2]), outcome, fired }))
return 1
";

    /// <summary>
    /// Creates or updates a recurring schedule: definition ARGV[2] under name ARGV[1], next tick ARGV[3] ('' for none:
    /// suspended, or no tick to come). An unchanged definition is left alone, its next tick too, so that applying
    /// the same set again never moves or loses a tick. KEYS: definitions, due set. Returns 'created', 'updated' or 'unchanged'.
    /// </summary>
    public const string RegisterSchedule = @"
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old == ARGV[2] then return 'unchanged' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '' then redis.call('ZREM', KEYS[2], ARGV[1]) else redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) end
if old then return 'updated' end
return 'created'
";

    /// <summary>
    /// Schedules tasks. ARGV in threes: 'in' (a delay in ms from the server's now) or 'at' (unix ms), the time, and
    /// the entry (a 16-character id followed by the task's bytes). Returns each entry's due time (unix ms), in order.
    /// </summary>
    public const string Schedule = Clock + @"
local now, up = clock_ms()
local dues = {}
for i = 1, #ARGV, 3 do
  local due = tonumber(ARGV[i + 1])
  if ARGV[i] == 'in' then due = due_after(due, now, up) end
  redis.call('ZADD', KEYS[7], due, ARGV[i + 2])
  dues[#dues + 1] = due
end
return dues
";

    /// <summary>
    /// Enqueues or schedules tracked tasks. ARGV in fives: the task's id (16 characters), how long to keep its record
    /// after it ends (ms), 'now' | 'in' | 'at', the delay or time in ms, and the task's bytes. A task enqueued now goes
    /// to the tail with a token, its id to the end of its bytes' line; a scheduled one into the schedule under its id.
    /// Returns the number of tasks. Uses KEYS 1, 2, 7, 12 and 13 only.
    /// </summary>
    public const string EnqueueTracked = Clock + Tracking + @"
local now, up = clock_ms()
for i = 1, #ARGV, 5 do
  local tid, task = ARGV[i], ARGV[i + 4]
  if ARGV[i + 2] == 'now' then
    redis.call('RPUSH', KEYS[1], task)
    redis.call('RPUSH', KEYS[2], '1')
    track_wait(tid, task, now, ARGV[i + 1])
  else
    local due = tonumber(ARGV[i + 3])
    if ARGV[i + 2] == 'in' then due = due_after(due, now, up) end
    redis.call('ZADD', KEYS[7], due, tid .. task)
    redis.call('HSET', KEYS[12], 's' .. tid, cmsgpack.pack({ 'd', due }), 'b' .. tid, task, 'k' .. tid, ARGV[i + 1])
  end
end
return #ARGV / 5
";

    /// <summary>
    /// Stops a tracked task. ARGV: its id, why. A queued one leaves the list (one copy of its bytes, with a token; equal
    /// bytes are interchangeable) and its bytes' line; a scheduled one leaves the schedule; its record then says
    /// stopped. For a running one, a request to its worker ('c' + worker id: the task's id), which the worker reads at
    /// its next keep-alive (<see cref="KeepAlive"/>). Returns 'stopped', 'running' (requested of its worker), 'ended'
    /// (it had ended), 'unknown' (no record: never tracked here, or kept past its time), or 'gone' (its record
    /// said queued, yet no task with its bytes waits: a worker that keeps no records took it; the record now says so,
    /// ['g', ended ms]).
    /// </summary>
    public const string CancelTracked = Clock + Tracking + ReconcileLine + @"
local tid = ARGV[1]
local raw = redis.call('HGET', KEYS[12], 's' .. tid)
if not raw then return 'unknown' end
local state = cmsgpack.unpack(raw)
local task = redis.call('HGET', KEYS[12], 'b' .. tid)
if state[1] == 'r' then
  -- Its worker hears of the request at its next keep-alive, stops the handler, and records it stopped.
  redis.call('HSET', KEYS[12], 'c' .. state[2], tid)
  return 'running'
end
if state[1] == 'q' then
  line_remove(tid, task)
  if redis.call('LREM', KEYS[1], -1, task) == 0 then
    local now = now_ms()
    track_taken(tid, now)
    return 'gone'
  end
  redis.call('LPOP', KEYS[2])
elseif state[1] == 'd' then
  if redis.call('ZREM', KEYS[7], tid .. task) == 0 then return 'ended' end
else
  return 'ended'
end
local now = now_ms()
track_end(tid, now, cmsgpack.pack({ 'x', now, ARGV[2] }), '')
return 'stopped'
";

    /// <summary>
    /// Finds tracked tasks that a worker keeping no records (Python, Go) took (<see cref="ReconcileLine"/>): ARGV[1] how many
    /// list entries the call may compare at most, then the ids to check, each line of equal bytes that a queued one of them
    /// waits in once. The ids are checked in order until the next scan could pass the budget (the first always is), so
    /// that many waiting jobs on a long queue never stall Redis. Returns how many ids were checked, then the ids found taken.
    /// </summary>
    public const string ReconcileTracked = Clock + Tracking + ReconcileLine + @"
local budget, length = tonumber(ARGV[1]), redis.call('LLEN', KEYS[1])
local taken, seen, spent, checked = {}, {}, 0, 0
for i = 2, #ARGV do
  local raw = redis.call('HGET', KEYS[12], 's' .. ARGV[i])
  if raw and cmsgpack.unpack(raw)[1] == 'q' then
    local task = redis.call('HGET', KEYS[12], 'b' .. ARGV[i])
    local d = redis.sha1hex(task)
    if not seen[d] then
      if checked > 0 and spent + length > budget then break end
      seen[d] = true
      local found, cost = reconcile_line(d, task, now_ms(), length)
      spent = spent + cost
      for _, tid in ipairs(found) do taken[#taken + 1] = tid end
    end
  end
  checked = checked + 1
end
table.insert(taken, 1, checked)
return taken
";

    /// <summary>
    /// Puts failed tasks back. ARGV in twos: the failed-store id and the bytes to enqueue (the failed task's, or with
    /// a new retry budget). Each goes to the tail with a token only if it is still in the store, and leaves it; a tracked
    /// one's record (its id is the failed record's eighth element) says queued again.
    /// Returns per pair the length of the list once it was put back (its place from the head, plus one), or 0 when it
    /// was gone already.
    /// </summary>
    public const string RestoreFailed = Clock + Tracking + @"
local done = {}
for i = 1, #ARGV, 2 do
  local record = redis.call('HGET', KEYS[9], ARGV[i])
  if redis.call('ZREM', KEYS[8], ARGV[i]) == 1 then
    redis.call('HDEL', KEYS[9], ARGV[i])
    local length = redis.call('RPUSH', KEYS[1], ARGV[i + 1])
    redis.call('RPUSH', KEYS[2], '1')
    -- A tracked task's record, still kept, follows it back: queued again, no longer due to be dropped.
    local tracked = record and cmsgpack.unpack(record)[8]
    if tracked and redis.call('HEXISTS', KEYS[12], 's' .. tracked) == 1 then
      track_wait(tracked, ARGV[i + 1])
      redis.call('ZREM', KEYS[13], tracked)
    end
    done[#done + 1] = length
  else
    done[#done + 1] = 0
  end
end
return done
";

    /// <summary>Deletes failed tasks by id. ARGV: ids. Returns one 1 (deleted) or 0 (gone already) per id.</summary>
    public const string RemoveFailed = @"
local done = {}
for i = 1, #ARGV do
  done[i] = redis.call('ZREM', KEYS[8], ARGV[i])
  redis.call('HDEL', KEYS[9], ARGV[i])
end
return done
";

    /// <summary>
    /// Registers a worker id: SET id 1 EX ttl NX, and on success records the worker's description.
    /// KEYS: liveness key (the id), workers. ARGV: ttl seconds, description. Returns 1, or 0 when taken.
    /// </summary>
    public const string Register = @"
if not redis.call('SET', KEYS[1], '1', 'EX', ARGV[1], 'NX') then return 0 end
redis.call('HSET', KEYS[2], KEYS[1], ARGV[2])
return 1
";

    /// <summary>
    /// Refreshes a worker's liveness key. KEYS: the key (the worker id), the tracked hash, then the control hash of
    /// every queue the worker serves. ARGV: ttl seconds. Returns false when the key was gone (the caller registers
    /// again), 1 when nothing is asked of it, else { the id of a tracked task that the worker is asked to stop
    /// (Stop-Job, <see cref="CancelTracked"/>) or '', 1 when the worker is asked to stop (Stop-DelayedWorker) else 0 }.
    /// The claims of a worker of several queues look for a stop request in one queue only: this is the backstop that
    /// hears one written to any of them.
    /// </summary>
    public const string KeepAlive = @"
if redis.call('EXPIRE', KEYS[1], ARGV[1]) == 0 then return false end
local stop = 0
for i = 3, #KEYS do
  if redis.call('HEXISTS', KEYS[i], KEYS[1]) == 1 then stop = 1 break end
end
local tracked = redis.call('HGET', KEYS[2], 'c' .. KEYS[1])
if tracked or stop == 1 then return { tracked or '', stop } end
return 1
";

    /// <summary>Goes offline: DEL id, and the worker's extension entries. KEYS: liveness key, workers, control.</summary>
    public const string GoOffline = @"
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], KEYS[1])
redis.call('HDEL', KEYS[3], KEYS[1])
return 1
";

    /// <summary>
    /// Puts an in-flight task back on its queue with a token, only if the worker still holds exactly those
    /// bytes, and, unless forced, only if that worker is gone (a tracked task's record says queued again). ARGV: worker
    /// id, bytes, 'head' or 'tail', '1' to force. Returns 'restored', 'not-held' or 'alive'.
    /// </summary>
    public const string Restore = Clock + Tracking + @"
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 'not-held' end
if ARGV[4] ~= '1' and redis.call('EXISTS', ARGV[1]) == 1 then return 'alive' end
if ARGV[3] == 'head' then redis.call('LPUSH', KEYS[1], ARGV[2]) else redis.call('RPUSH', KEYS[1], ARGV[2]) end
redis.call('RPUSH', KEYS[2], '1')
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
local tracked = redis.call('EXISTS', KEYS[12]) == 1 and redis.call('HGET', KEYS[12], 'r' .. ARGV[1])
if tracked then
  redis.call('HDEL', KEYS[12], 'r' .. ARGV[1], 'c' .. ARGV[1])
  track_wait(tracked, ARGV[2])
end
return 'restored'
";

    /// <summary>
    /// Deletes an in-flight task, only if the worker still holds exactly those bytes and, unless forced, is
    /// gone (a tracked task's record says stopped). ARGV: worker id, bytes, '1' to force. Returns 'removed', 'not-held'
    /// or 'alive'.
    /// </summary>
    public const string RemoveInFlight = Clock + Tracking + @"
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 'not-held' end
if ARGV[3] ~= '1' and redis.call('EXISTS', ARGV[1]) == 1 then return 'alive' end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
local tracked = redis.call('EXISTS', KEYS[12]) == 1 and redis.call('HGET', KEYS[12], 'r' .. ARGV[1])
if tracked then
  redis.call('HDEL', KEYS[12], 'r' .. ARGV[1], 'c' .. ARGV[1])
  local now = now_ms()
  track_end(tracked, now, cmsgpack.pack({ 'x', now, 'Remove-DelayedTask' }), '')
end
return 'removed'
";

    /// <summary>
    /// Deletes one queued task with exactly these bytes, with one token: the one at the given position if
    /// it is still there, else the first one from the head (tasks with equal bytes are interchangeable); when that
    /// leaves a tracked one without its copy, the oldest tracked record of those bytes says stopped.
    /// ARGV: position, bytes, a marker value no task has. Returns 1, or 0 when no such task is queued.
    /// </summary>
    public const string RemoveQueued = Clock + Tracking + @"
local at = tonumber(ARGV[1])
if redis.call('LINDEX', KEYS[1], at) == ARGV[2] then
  redis.call('LSET', KEYS[1], at, ARGV[3])
  redis.call('LREM', KEYS[1], 1, ARGV[3])
elseif redis.call('LREM', KEYS[1], 1, ARGV[2]) == 0 then
  return 0
end
redis.call('LPOP', KEYS[2])
-- When its bytes' line now holds more ids than copies of them wait, a tracked one went: the oldest says stopped.
if redis.call('EXISTS', KEYS[12]) == 1 then
  local d = redis.sha1hex(ARGV[2])
  local h, t, n = line_state(KEYS[12], d)
  if n and n > #redis.call('LPOS', KEYS[1], ARGV[2], 'COUNT', n) then
    local tracked = line_take(KEYS[12], d)
    local now = now_ms()
    if tracked then track_end(tracked, now, cmsgpack.pack({ 'x', now, 'Remove-DelayedTask' }), '') end
  end
end
return 1
";

    /// <summary>
    /// Asks a worker of this implementation to stop. KEYS: the queue's workers hash and control hash, then the same
    /// two of each other queue the worker says it serves. ARGV: worker id. The request is written to every one of those
    /// queues that lists the worker, so that a worker of several queues hears it on whichever it claims from next.
    /// Returns 'requested', 'unknown' (not a registered worker of this implementation) or 'gone' (its liveness key has
    /// expired).
    /// </summary>
    public const string RequestStop = @"
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 'unknown' end
if redis.call('EXISTS', ARGV[1]) == 0 then return 'gone' end
redis.call('HSET', KEYS[2], ARGV[1], 'stop')
for i = 3, #KEYS - 1, 2 do
  if redis.call('HEXISTS', KEYS[i], ARGV[1]) == 1 then redis.call('HSET', KEYS[i + 1], ARGV[1], 'stop') end
end
return 'requested'
";
}
