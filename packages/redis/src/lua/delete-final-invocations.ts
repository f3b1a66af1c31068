import { FINAL_STATUSES } from '@nenc/core'
import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE, luaSet } from './prelude.js'

/** Removes final invocations (Orchestrator.deleteFinalInvocations). */
export const deleteFinalInvocations = new LuaScript(
  'delete-final-invocations',
  `-- delete-final-invocations: for each id whose status is final, removes its hash, its history
-- and its entries in the creation zsets (all, its task's) and the waited zset. A final
-- invocation is in no key set, parked list or live/active zset (its final transition left them).
-- KEYS[1] all ids zset, KEYS[2] waited zset, KEYS[3] live zset, KEYS[4] active zset
-- ARGV[1] app prefix, ARGV[2..] ids
-- Returns: the ids removed
local FINAL_ONLY = ${luaSet(FINAL_STATUSES)}
local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local r = redis.call('HMGET', K_invocation(id), 's', 'k')
  if r[1] and FINAL_ONLY[r[1]] then
    redis.call('DEL', K_invocation(id), K_history(id), K_waitingFor(id), K_waitedBy(id))
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
    redis.call('ZREM', KEYS[4], id)
    if r[2] then redis.call('ZREM', K_byTask(r[2]), id) end
    out[#out + 1] = id
  end
end
return out`,
  BASE_PRELUDE,
)
