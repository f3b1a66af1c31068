import { LuaScript } from '../lua-script.js'
import { BASE_PRELUDE } from './prelude.js'

/** Compare-and-set of a condition's last cron execution (TriggerStore.setLastCronExecution). */
export const setLastCronExecution = new LuaScript(
  'set-last-cron-execution',
  `-- set-last-cron-execution: write next only if the stored value equals expected.
-- KEYS[1] cron hash
-- ARGV[1] app prefix (unused), ARGV[2] condition id, ARGV[3] expected ('' = absent), ARGV[4] next
-- Returns: 1 written, 0 lost the race
local current = redis.call('HGET', KEYS[1], ARGV[2]) or ''
if current ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
return 1`,
  BASE_PRELUDE,
)
