import { CORRUPT_REPLY } from '../errors-from-code.js'
import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/**
 * Stores each invocation's latest progress unless a higher attempt's is stored, and publishes
 * what it stored on the progress channel in the same step (StateBackend.setProgress).
 */
export const setProgress = new LuaScript(
  'set-progress',
  `-- set-progress: per record, SET its progress key to "<attempt>\\n<updatedAt>\\n<value>" unless the
-- stored one has a higher attempt (a late report of a dead attempt never hides the live one's),
-- then PUBLISH the stored records as a JSON array of [id, attempt, updatedAt, value].
-- KEYS[1] progress channel
-- ARGV[1] app prefix, then per record: id, attempt, updatedAt, value
-- Returns: number stored; error reply ${CORRUPT_REPLY} <key> when a progress key holds foreign
--   data (nothing written).
for i = 2, #ARGV, 4 do
  local bad = bad_type(K_progress(ARGV[i]), 'string')
  if bad then return redis.error_reply(bad) end
end
local stored = {}
for i = 2, #ARGV, 4 do
  local key = K_progress(ARGV[i])
  local current = redis.call('GET', key)
  local keep = false
  if current then
    local attempt = tonumber(string.match(current, '^(%d+)\\n'))
    if attempt == nil then return redis.error_reply('${CORRUPT_REPLY} ' .. key) end
    keep = attempt > tonumber(ARGV[i + 1])
  end
  if not keep then
    redis.call('SET', key, ARGV[i + 1] .. '\\n' .. ARGV[i + 2] .. '\\n' .. ARGV[i + 3])
    stored[#stored + 1] = { ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ARGV[i + 3] }
  end
end
if #stored > 0 then redis.call('PUBLISH', KEYS[1], cjson.encode(stored)) end
return #stored`,
  BASE_PRELUDE,
)
