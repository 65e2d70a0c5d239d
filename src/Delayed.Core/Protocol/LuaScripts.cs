namespace Delayed.Core.Protocol;

/// <summary>
/// The scripts this implementation runs. They take data only through KEYS and ARGV. Each is atomic, so a
/// task is always in exactly one of the task list or the processing hash.
/// </summary>
internal static class LuaScripts
{
    /// <summary>
    /// Finishes the task a worker holds and claims the next one, in one round trip.
    /// KEYS: tasks, tokens, processing, inflight. ARGV: worker id, mode, new claim stamp, stamp of the task
    /// to finish ('' for none), bytes to re-enqueue for a retry ('' for none).
    /// Mode 'none' only finishes; 'token' claims only if a token can be taken now (never blocks);
    /// 'taken' claims after the caller already took a token with BLPOP.
    /// The finish happens only if the worker still holds the claim it names, so a repeated call (after a
    /// lost reply) or a task an admin already restored is never released or re-enqueued twice. A task
    /// already recorded under the id (a claim whose reply was lost) is handed back rather than overwritten.
    /// An empty task list returns false and changes nothing (D1); a surplus token is simply consumed.
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
    /// One sweep of a queue. KEYS: tasks, tokens, processing, inflight. ARGV: largest number of tokens per push.
    /// Moves the task of every worker whose liveness key is gone (EXISTS, so a key of another type is not
    /// an error: D7) back to the tail, drops in-flight stamps that no longer match a held task, then brings
    /// the token count to the task count: missing tokens pushed in bounded batches (D6), surplus ones
    /// trimmed (safe because every enqueuer pushes a task no later than its token, D4).
    /// Returns { tasks recovered, token adjustment }.
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
}
