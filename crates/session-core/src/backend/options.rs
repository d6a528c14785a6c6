//! The options every store builder shares: one struct with the defaults and
//! the checks, and one macro that writes the setters, so every backend names
//! and checks them alike.

use std::{sync::Arc, time::Duration};

use crate::{
    Codec, Error, JsonCodec, Lifetimes,
    clock::{Clock, SystemClock},
};

/// The options shared by store builders, with their defaults. A builder
/// keeps one in a field named `options` and gets the setters from
/// [`builder_options!`](crate::builder_options).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BuilderOptions {
    /// Lifetime of sessions written without an expiry (default 24 h).
    pub default_ttl: Duration,
    /// How long writes to a destroyed id are refused (default 300 s).
    pub tombstone_grace: Duration,
    /// The application's clock (default [`SystemClock`]).
    pub clock: Arc<dyn Clock>,
    /// Make `touch` a no-op that reports success (default `false`).
    pub disable_touch: bool,
    /// How session data is encoded (default [`JsonCodec`]).
    pub codec: Arc<dyn Codec>,
    /// Longest any call may take, retries included (default 5 s).
    pub timeout: Duration,
    /// Background purge interval (default 15 minutes); `None` turns it off.
    pub purge_interval: Option<Duration>,
    /// Records deleted per purge statement or request (default 1000).
    pub purge_batch: u32,
}

impl Default for BuilderOptions {
    fn default() -> Self {
        Self {
            default_ttl: Lifetimes::DEFAULT_TTL,
            tombstone_grace: Lifetimes::DEFAULT_TOMBSTONE_GRACE,
            clock: Arc::new(SystemClock),
            disable_touch: false,
            codec: Arc::new(JsonCodec),
            timeout: Duration::from_secs(5),
            purge_interval: Some(Duration::from_secs(15 * 60)),
            purge_batch: 1000,
        }
    }
}

impl BuilderOptions {
    /// Checks every option and returns the lifetimes.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the option out of range: a zero or
    /// too long TTL or grace, a zero timeout, purge interval or purge batch.
    pub fn check(&self) -> Result<Lifetimes, Error> {
        let lifetimes = Lifetimes::new(self.default_ttl, self.tombstone_grace)?;
        for (name, zero) in [
            ("timeout", self.timeout.is_zero()),
            ("purge_interval", self.purge_interval.is_some_and(|i| i.is_zero())),
            ("purge_batch", self.purge_batch == 0),
        ] {
            if zero {
                return Err(Error::InvalidInput(format!("{name} must be positive")));
            }
        }
        Ok(lifetimes)
    }
}

/// Writes the setters of shared builder options into a builder's `impl`
/// block, for groups of options by name: `lifetimes` (`default_ttl`,
/// `tombstone_grace`, `lifetimes`, `clock`), `remote` (`disable_touch`,
/// `codec`, `timeout`) and `purge` (`purge_interval`, `purge_batch`). The
/// builder needs a field `options` of type
/// [`BuilderOptions`](crate::backend::BuilderOptions).
///
/// ```
/// use session_core::backend::BuilderOptions;
///
/// #[derive(Default)]
/// pub struct MyStoreBuilder {
///     options: BuilderOptions,
/// }
///
/// impl MyStoreBuilder {
///     session_core::builder_options!(lifetimes, remote);
/// }
///
/// let builder = MyStoreBuilder::default().timeout(std::time::Duration::ZERO);
/// assert!(builder.options.check().is_err());
/// ```
#[macro_export]
macro_rules! builder_options {
    ($($group:ident),+ $(,)?) => {
        $( $crate::builder_options!(@$group); )+
    };
    (@lifetimes) => {
        /// Lifetime of sessions written without an expiry (default 24 h).
        /// Must be positive.
        pub fn default_ttl(mut self, ttl: ::std::time::Duration) -> Self {
            self.options.default_ttl = ttl;
            self
        }

        /// How long writes to a destroyed id are refused (default 300 s);
        /// zero turns tombstones off, so `destroy` deletes outright.
        pub fn tombstone_grace(mut self, grace: ::std::time::Duration) -> Self {
            self.options.tombstone_grace = grace;
            self
        }

        /// Both lifetimes at once (as the conformance suite hands them out).
        pub fn lifetimes(self, lifetimes: $crate::Lifetimes) -> Self {
            self.default_ttl(lifetimes.default_ttl())
                .tombstone_grace(lifetimes.tombstone_grace())
        }

        /// The clock every expiry is computed and compared with (default
        /// the system clock). Give a
        /// [`SkewedClock`]($crate::clock::SkewedClock) to test clock skew.
        pub fn clock(mut self, clock: ::std::sync::Arc<dyn $crate::Clock>) -> Self {
            self.options.clock = clock;
            self
        }
    };
    (@remote) => {
        /// Make `touch` a no-op that reports success (default `false`).
        pub fn disable_touch(mut self, disable: bool) -> Self {
            self.options.disable_touch = disable;
            self
        }

        /// How session data is encoded (default [`JsonCodec`]($crate::JsonCodec)).
        pub fn codec(mut self, codec: ::std::sync::Arc<dyn $crate::Codec>) -> Self {
            self.options.codec = codec;
            self
        }

        /// Longest any call may take, retries and reconnects included
        /// (default 5 s). Must be positive.
        pub fn timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.options.timeout = timeout;
            self
        }
    };
    (@purge) => {
        /// Background purge of expired sessions and lapsed tombstones every
        /// `interval`, ±50 % jitter (default 15 minutes); `None` turns it off.
        pub fn purge_interval(mut self, interval: ::std::option::Option<::std::time::Duration>) -> Self {
            self.options.purge_interval = interval;
            self
        }

        /// Records deleted per purge statement or request (default 1000).
        /// Must be positive.
        pub fn purge_batch(mut self, records: u32) -> Self {
            self.options.purge_batch = records;
            self
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_each_zero_is_named() {
        assert_eq!(BuilderOptions::default().check().ok(), Some(Lifetimes::default()));
        let named = |options: BuilderOptions, name: &str| {
            let error = options.check().unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
        };
        named(
            BuilderOptions {
                timeout: Duration::ZERO,
                ..Default::default()
            },
            "timeout",
        );
        named(
            BuilderOptions {
                purge_interval: Some(Duration::ZERO),
                ..Default::default()
            },
            "purge_interval",
        );
        named(
            BuilderOptions {
                purge_batch: 0,
                ..Default::default()
            },
            "purge_batch",
        );
        named(
            BuilderOptions {
                default_ttl: Duration::ZERO,
                ..Default::default()
            },
            "default_ttl",
        );
    }
}
