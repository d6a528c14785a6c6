//! The Lua scripts that make each single-key write atomic on the server.
//!
//! Each reads only the 9-byte header (`GETRANGE 0 8`), never the payload
//! (but a conditional `set`, which compares the whole value), compares
//! expiries with the application's clock passed in `ARGV[1]`, and answers
//! what it found: the [`Occupant`] the Rust side hands to
//! [`decide`](session_core::backend::decide), which the script mirrors
//! for its own effect. A key holding anything this store did not write (a
//! value without our kind byte, or another Redis type) is left alone.
//! Expiries are set relative (`PX`), so the server's own clock never
//! shortens a record.

use fred::types::scripts::Script;
use session_core::{Error, backend::Occupant};

/// Shared by every script of every layout: `now` (unix ms), and how a
/// record is written until an instant.
const WRITE: &str = r"
local now = tonumber(ARGV[1])
-- Writes the record until `expiry`, or removes the key if that has passed.
local function write(key, record, expiry)
  if expiry <= now then
    redis.call('DEL', key)
  else
    redis.call('SET', key, record, 'PX', expiry - now)
  end
end
";

/// What `key` holds at `now` in this crate's own layout.
const OCCUPANT: &str = r"
-- 0 vacant (missing, or past its time), 1 live, 2 tombstone, 3 foreign.
local function occupant(key)
  local head = redis.pcall('GETRANGE', key, 0, 8)
  if type(head) ~= 'string' then return 3 end
  local length = string.len(head)
  if length == 0 then return 0 end
  local kind = string.byte(head, 1)
  if length < 9 or (kind ~= 1 and kind ~= 2) then return 3 end
  local at = 0
  for i = 2, 9 do at = at * 256 + string.byte(head, i) end
  if at <= now then return 0 end
  return kind
end
";

/// `set`: ARGV = now, record, expiry (unix ms), and for `set_if_unchanged`
/// the value `get_versioned` read. With it, the write lands only on a live
/// session whose whole value is still exactly that (rule 10); a tombstone
/// still answers as for `set`, anything else (another value, nothing, a
/// foreign value) [`CHANGED`]. One script for both, so a plain `set` pays
/// one `nil` test.
/// Contents are compared, not a version field, because the Node layouts
/// have none: a Node app's write is seen as surely as our own.
const SET: &str = r"
local found = occupant(KEYS[1])
local seen = ARGV[4]
if seen and found ~= 2 and (found ~= 1 or redis.call('GET', KEYS[1]) ~= seen) then return 4 end
if found >= 2 then return found end
write(KEYS[1], ARGV[2], tonumber(ARGV[3]))
return found
";

/// The `set` script's answer when the value is no longer the one read.
const CHANGED: i64 = 4;

/// `create`: ARGV = now, record, expiry (unix ms).
const CREATE: &str = r"
local found = occupant(KEYS[1])
if found ~= 0 then return found end
local expiry = tonumber(ARGV[3])
if expiry > now then redis.call('SET', KEYS[1], ARGV[2], 'PX', expiry - now) end
return found
";

/// `touch`: ARGV = now, new expiry (unix ms), the same as 8 header bytes.
const TOUCH: &str = r"
local found = occupant(KEYS[1])
if found ~= 1 then return found end
local expiry = tonumber(ARGV[2])
if expiry <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SETRANGE', KEYS[1], 1, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], expiry - now)
end
return found
";

/// What `key` holds in the Node layouts: a session when it is a string
/// (its expiry is Redis' own TTL), a tombstone when that string is
/// connect-redis-session's `TOMBSTONE` (connect-redis never writes one),
/// and anything else is foreign.
const NODE_OCCUPANT: &str = r"
local function occupant(key)
  local kind = redis.call('TYPE', key).ok
  if kind == 'none' then return 0 end
  if kind ~= 'string' then return 3 end
  if redis.call('GET', key) == 'TOMBSTONE' then return 2 end
  return 1
end
";

/// The Node layouts' `touch`: the key's TTL moves, as Node's touch does, and
/// so does `cookie.expires` inside the value (ARGV[3], as the layout writes
/// it: a quoted date or unix milliseconds), and `cookie._expires` when
/// ARGV[4] is given, so a reader sees the same expiry both ways. Only keys
/// of the cookie object, which both express-session and this crate write
/// first, are changed; a `null` (a browser-session cookie) stays `null`.
const NODE_TOUCH: &str = r#"
local found = occupant(KEYS[1])
if found ~= 1 then return found end
local expiry = tonumber(ARGV[2])
if expiry <= now then redis.call('DEL', KEYS[1]) return found end
local value = redis.call('GET', KEYS[1])
local function replace(text, name, token)
  local cookie_end = string.find(text, '}', 12, true)
  local _, colon = string.find(text, '"' .. name .. '":', 12, true)
  if not colon or not cookie_end or colon > cookie_end then return text end
  local rest = string.sub(text, colon + 1)
  if string.sub(rest, 1, 4) == 'null' then return text end
  local stop = string.find(rest, '[,}]')
  if not stop then return text end
  return string.sub(text, 1, colon) .. token .. string.sub(rest, stop)
end
if string.sub(value, 1, 11) == '{"cookie":{' then
  value = replace(value, 'expires', ARGV[3])
  if ARGV[4] then value = replace(value, '_expires', ARGV[4]) end
  redis.call('SET', KEYS[1], value, 'PX', expiry - now)
else
  redis.call('PEXPIRE', KEYS[1], expiry - now)
end
return found
"#;

/// Reads a Node layout's value and its TTL in one atomic step.
const NODE_GET: &str = r"
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
";

/// What a script found, as the rule table knows it.
///
/// # Errors
/// [`Error::Decode`] for a foreign value (the script wrote nothing),
/// [`Error::Conflict`] for a conditional `set` that found another value, and
/// [`Error::Backend`] for an answer no script gives.
pub(crate) fn occupant(answer: i64) -> Result<Occupant, Error> {
    match answer {
        0 => Ok(Occupant::Vacant),
        1 => Ok(Occupant::Live),
        2 => Ok(Occupant::Tombstone),
        3 => Err(Error::Decode(
            "the key holds a value this store did not write; it was left alone".into(),
        )),
        CHANGED => Err(Error::Conflict),
        other => Err(Error::Backend(
            format!("unexpected answer {other} from a store script").into(),
        )),
    }
}

/// The scripts, hashed once per store.
#[derive(Debug, Clone)]
pub(crate) struct Scripts {
    pub(crate) set: Script,
    pub(crate) create: Script,
    pub(crate) touch: Script,
    /// A read that also returns the TTL (the Node layouts' expiry).
    pub(crate) get_with_ttl: Script,
}

impl Scripts {
    /// The scripts of this crate's own records.
    pub(crate) fn new() -> Self {
        let script = |body: &str| Script::from_lua(format!("{WRITE}{OCCUPANT}{body}"));
        Self {
            set: script(SET),
            create: script(CREATE),
            touch: script(TOUCH),
            get_with_ttl: Script::from_lua(NODE_GET),
        }
    }

    /// The same writes for the Node layouts: the same bodies over their
    /// idea of what a key holds, and their touch.
    pub(crate) fn node() -> Self {
        let script = |body: &str| Script::from_lua(format!("{WRITE}{NODE_OCCUPANT}{body}"));
        Self {
            set: script(SET),
            create: script(CREATE),
            touch: script(NODE_TOUCH),
            get_with_ttl: Script::from_lua(NODE_GET),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_occupants() {
        assert_eq!(occupant(0).ok(), Some(Occupant::Vacant));
        assert_eq!(occupant(1).ok(), Some(Occupant::Live));
        assert_eq!(occupant(2).ok(), Some(Occupant::Tombstone));
        assert!(matches!(occupant(3), Err(Error::Decode(_))));
        assert!(matches!(occupant(CHANGED), Err(Error::Conflict)));
        assert!(matches!(occupant(9), Err(Error::Backend(_))));
    }
}
