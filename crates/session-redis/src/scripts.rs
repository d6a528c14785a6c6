//! The Lua scripts that make each single-key write atomic on the server.
//!
//! They read only the 9-byte header (`GETRANGE 0 8`), never the payload, and
//! compare expiries with the application's clock passed in `ARGV[1]`.

use fred::types::scripts::Script;

/// Shared by every script: the state of `key` at `now` (unix ms).
const PRELUDE: &str = r"
local now = tonumber(ARGV[1])
local function state(key, now)
  local head = redis.call('GETRANGE', key, 0, 8)
  if string.len(head) < 9 then return 'none' end
  local at = 0
  for i = 2, 9 do at = at * 256 + string.byte(head, i) end
  if at <= now then return 'none' end
  if string.byte(head, 1) == 2 then return 'tombstone' end
  return 'live'
end
-- Writes the record until `expiry`, or removes the key if that has passed.
local function write(key, record, expiry)
  if expiry <= now then
    redis.call('DEL', key)
  else
    redis.call('SET', key, record, 'PXAT', expiry)
  end
end
";

/// `set`: ARGV = now, record, expiry (unix ms).
const SET: &str = r"
if state(KEYS[1], now) == 'tombstone' then return 0 end
write(KEYS[1], ARGV[2], tonumber(ARGV[3]))
return 1
";

/// `create`: ARGV = now, record, expiry (unix ms).
const CREATE: &str = r"
local current = state(KEYS[1], now)
if current == 'tombstone' then return 0 end
if current == 'live' then return 2 end
write(KEYS[1], ARGV[2], tonumber(ARGV[3]))
return 1
";

/// `touch`: ARGV = now, new expiry (unix ms), the same as 8 header bytes.
const TOUCH: &str = r"
local current = state(KEYS[1], now)
if current == 'tombstone' then return 0 end
if current == 'none' then return 3 end
local expiry = tonumber(ARGV[2])
if expiry <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SETRANGE', KEYS[1], 1, ARGV[3])
  redis.call('PEXPIREAT', KEYS[1], expiry)
end
return 1
";

/// What a script answered.
pub(crate) const DONE: i64 = 1;
pub(crate) const DESTROYED: i64 = 0;
pub(crate) const EXISTS: i64 = 2;
pub(crate) const MISSING: i64 = 3;

/// The scripts, hashed once per store.
#[derive(Debug, Clone)]
pub(crate) struct Scripts {
    pub(crate) set: Script,
    pub(crate) create: Script,
    pub(crate) touch: Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        let script = |body: &str| Script::from_lua(format!("{PRELUDE}{body}"));
        Self {
            set: script(SET),
            create: script(CREATE),
            touch: script(TOUCH),
        }
    }
}
