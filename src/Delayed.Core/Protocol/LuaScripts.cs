namespace Delayed.Core.Protocol;

/// <summary>
/// The scripts this implementation runs. They take data only through KEYS and ARGV. Each is atomic, so a
/// task is always in exactly one of the task list or the processing hash. Queue scripts share one KEYS
/// layout: tasks, tokens, processing, inflight, workers, control (<see cref="QueueKeys"/>).
/// </summary>
internal static class LuaScripts
{
    /// <summary>
    /// Finishes the task a worker holds and claims the next one, in one round trip.
    /// ARGV: worker id, mode, new claim stamp, stamp of the task to finish ('' for none), bytes to re-enqueue
    /// for a retry ('' for none).
    /// Mode 'none' only finishes; 'token' claims only if a token can be taken now (never blocks);
    /// 'taken' claims after the caller already took a token with BLPOP.
    /// The finish happens only if the worker still holds the claim it names, so a repeated call (after a
    /// lost reply) or a task an admin already restored is never released or re-enqueued twice. A task
    /// already recorded under the id (a claim whose reply was lost) is handed back rather than overwritten.
    /// A stop request for the id returns {'stop'} instead of a task. A worker whose liveness key (its id) is gone
    /// (expired while its process was paused, or lost by Redis) gets {'unregistered'}: a task it took now could be
    /// swept from under it. An empty task list returns false and changes nothing (D1); a surplus token is simply
    /// consumed.
    /// </summary>
    public const string FinishAndClaim = @"
local id = ARGV[1]
if ARGV[4] ~= '' and redis.call('HGET', KEYS[4], id) == ARGV[4] then
  if ARGV[5] ~= '' then
    redis.call('RPUSH', KEYS[1], ARGV[5])
    redis.call('RPUSH', KEYS[2], '1')
  end
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
end
if ARGV[2] == 'none' then return false end
if redis.call('HEXISTS', KEYS[6], id) == 1 then
  if ARGV[2] == 'taken' then redis.call('RPUSH', KEYS[2], '1') end
  return { 'stop' }
end
if redis.call('EXISTS', id) == 0 then
  if ARGV[2] == 'taken' then redis.call('RPUSH', KEYS[2], '1') end
  return { 'unregistered' }
end
local held = redis.call('HGET', KEYS[3], id)
if held then
  if ARGV[2] == 'taken' then redis.call('RPUSH', KEYS[2], '1') end
  redis.call('HSET', KEYS[4], id, ARGV[3])
  return held
end
if ARGV[2] == 'token' and not redis.call('LPOP', KEYS[2]) then return false end
local task = redis.call('LPOP', KEYS[1])
if not task then return false end
redis.call('HSET', KEYS[3], id, task)
redis.call('HSET', KEYS[4], id, ARGV[3])
return task
";

    /// <summary>
    /// One sweep of a queue. ARGV: largest number of tokens per push.
    /// Moves the task of every worker whose liveness key is gone (EXISTS, so a key of another type is not
    /// an error: D7) back to the tail, drops extension entries of gone workers and in-flight stamps that no
    /// longer match a held task, then brings the token count to the task count: missing tokens pushed in
    /// bounded batches (D6), surplus ones trimmed (safe because every enqueuer pushes a task no later than
    /// its token, D4). Returns { tasks recovered, token adjustment }.
    /// </summary>
    public const string Sweep = @"
local recovered = 0
local entries = redis.call('HGETALL', KEYS[3])
for i = 1, #entries, 2 do
  if redis.call('EXISTS', entries[i]) == 0 then
    redis.call('RPUSH', KEYS[1], entries[i + 1])
    redis.call('HDEL', KEYS[3], entries[i])
    recovered = recovered + 1
  end
end
local stamps = redis.call('HKEYS', KEYS[4])
for i = 1, #stamps do
  if redis.call('HEXISTS', KEYS[3], stamps[i]) == 0 then redis.call('HDEL', KEYS[4], stamps[i]) end
end
for k = 5, 6 do
  local ids = redis.call('HKEYS', KEYS[k])
  for i = 1, #ids do
    if redis.call('EXISTS', ids[i]) == 0 then redis.call('HDEL', KEYS[k], ids[i]) end
  end
end
local diff = redis.call('LLEN', KEYS[1]) - redis.call('LLEN', KEYS[2])
if diff > 0 then
  local batch = tonumber(ARGV[1])
  local ones = {}
  for i = 1, math.min(diff, batch) do ones[i] = '1' end
  local left = diff
  while left > 0 do
    local n = math.min(left, batch)
    redis.call('RPUSH', KEYS[2], unpack(ones, 1, n))
    left = left - n
  end
elseif diff < 0 then
  redis.call('LTRIM', KEYS[2], -diff, -1)
end
return { recovered, diff }
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

    /// <summary>Goes offline: DEL id, and the worker's extension entries. KEYS: liveness key, workers, control.</summary>
    public const string GoOffline = @"
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], KEYS[1])
redis.call('HDEL', KEYS[3], KEYS[1])
return 1
";

    /// <summary>
    /// Puts an in-flight task back on its queue with a token, only if the worker still holds exactly those
    /// bytes, and, unless forced, only if that worker is gone. ARGV: worker id, bytes, 'head' or 'tail',
    /// '1' to force. Returns 'restored', 'not-held' or 'alive'.
    /// </summary>
    public const string Restore = @"
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 'not-held' end
if ARGV[4] ~= '1' and redis.call('EXISTS', ARGV[1]) == 1 then return 'alive' end
if ARGV[3] == 'head' then redis.call('LPUSH', KEYS[1], ARGV[2]) else redis.call('RPUSH', KEYS[1], ARGV[2]) end
redis.call('RPUSH', KEYS[2], '1')
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 'restored'
";

    /// <summary>
    /// Deletes an in-flight task, only if the worker still holds exactly those bytes and, unless forced, is
    /// gone. ARGV: worker id, bytes, '1' to force. Returns 'removed', 'not-held' or 'alive'.
    /// </summary>
    public const string RemoveInFlight = @"
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 'not-held' end
if ARGV[3] ~= '1' and redis.call('EXISTS', ARGV[1]) == 1 then return 'alive' end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 'removed'
";

    /// <summary>
    /// Deletes one queued task with exactly these bytes, with one token: the one at the given position if
    /// it is still there, else the first one from the head (tasks with equal bytes are interchangeable).
    /// ARGV: position, bytes, a marker value no task has. Returns 1, or 0 when no such task is queued.
    /// </summary>
    public const string RemoveQueued = @"
local at = tonumber(ARGV[1])
if redis.call('LINDEX', KEYS[1], at) == ARGV[2] then
  redis.call('LSET', KEYS[1], at, ARGV[3])
  redis.call('LREM', KEYS[1], 1, ARGV[3])
elseif redis.call('LREM', KEYS[1], 1, ARGV[2]) == 0 then
  return 0
end
redis.call('LPOP', KEYS[2])
return 1
";

    /// <summary>
    /// Asks a worker of this implementation to stop. ARGV: worker id. Returns 'requested', 'unknown' (not a
    /// registered worker of this implementation) or 'gone' (its liveness key has expired).
    /// </summary>
    public const string RequestStop = @"
if redis.call('HEXISTS', KEYS[5], ARGV[1]) == 0 then return 'unknown' end
if redis.call('EXISTS', ARGV[1]) == 0 then return 'gone' end
redis.call('HSET', KEYS[6], ARGV[1], 'stop')
return 'requested'
";
}
