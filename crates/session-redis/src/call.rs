//! One store call's time budget, and the fred options that make its writes
//! safe to give up on.
//!
//! A call has one deadline, its timeout counted from the start. Every write
//! command is sent with fred's own timeout set to the time left and a single
//! attempt: when the call gives up, fred has marked the command timed out
//! and drops it instead of sending it after a reconnect, and a write that
//! was in flight when a connection died is never sent again. So a write
//! that answered `Timeout` is not replayed minutes later, after a logout's
//! tombstone has lapsed.

use std::time::{Duration, Instant};

use fred::{
    clients::Client,
    error::Error as FredError,
    interfaces::{ClientLike, LuaInterface, ServerInterface},
    types::{ClusterHash, CustomCommand, Key, Value, config::Options, scripts::Script},
};
use futures_util::future::try_join_all;
use session_core::Error;

use crate::{connection::Connection, error::from_fred};

/// The deadline of one store call, and the connection whose health its
/// outcome reports to.
#[derive(Clone, Copy)]
pub(crate) struct Call<'a> {
    deadline: Instant,
    timeout: Duration,
    connection: &'a Connection,
}

impl<'a> Call<'a> {
    pub(crate) fn start(connection: &'a Connection, timeout: Duration) -> Self {
        Self {
            deadline: Instant::now() + timeout,
            timeout,
            connection,
        }
    }

    /// Tells the connection's watchdog how the call went.
    fn report<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        match &result {
            Err(Error::Timeout(_)) => self.connection.timed_out(),
            Err(error) if error.is_transient() => {}
            _ => self.connection.answered(),
        }
        result
    }

    fn left(&self) -> Result<Duration, Error> {
        match self.deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(left),
            _ => Err(Error::Timeout(self.timeout)),
        }
    }

    /// Options for a write: fred's timeout is the time left, one attempt.
    fn write_options(&self) -> Result<Options, Error> {
        Ok(Options {
            timeout: Some(self.left()?),
            max_attempts: Some(1),
            ..Options::default()
        })
    }

    fn error(&self, error: FredError) -> Error {
        from_fred(error, self.timeout)
    }

    /// Runs a read within what is left of the call. Reads are safe to
    /// resend, so fred may retry them after a reconnect.
    pub(crate) async fn read<T>(&self, read: impl Future<Output = Result<T, FredError>>) -> Result<T, Error> {
        let answer = match tokio::time::timeout(self.left()?, read).await {
            Ok(answer) => answer.map_err(|e| self.error(e)),
            Err(_) => Err(Error::Timeout(self.timeout)),
        };
        self.report(answer)
    }

    /// Runs `per_key` on every key of a page at once (fred pipelines them)
    /// as one [`read`](Self::read), within what is left of the call.
    pub(crate) async fn each_key<T, F>(
        &self,
        keys: &[Key],
        per_key: impl Fn(Key) -> F,
    ) -> Result<Vec<T>, Error>
    where
        F: Future<Output = Result<T, FredError>>,
    {
        self.read(try_join_all(keys.iter().cloned().map(per_key))).await
    }

    /// Runs `script` on `key` as a write, loading it first if the server
    /// does not have it (`NOSCRIPT`: a restarted or newly promoted node).
    pub(crate) async fn script(
        &self,
        client: &Client,
        script: &Script,
        key: Key,
        args: Vec<Value>,
    ) -> Result<i64, Error> {
        match self.evalsha(client, script, key.clone(), args.clone()).await? {
            Err(error) if error.details().starts_with("NOSCRIPT") => {
                let lua = script.lua().cloned().unwrap_or_default();
                self.write(client, async |c| c.script_load_cluster::<(), _>(lua).await)
                    .await?;
                self.evalsha(client, script, key, args)
                    .await?
                    .map_err(|e| self.error(e))
            }
            answer => answer.map_err(|e| self.error(e)),
        }
    }

    /// `EVALSHA` under the write options. fred's `LuaInterface` is not
    /// implemented for `WithOptions` (its `evalsha` would reach the plain
    /// client through `Deref` and drop the options), so it is sent as a
    /// custom command routed by the key's slot.
    async fn evalsha(
        &self,
        client: &Client,
        script: &Script,
        key: Key,
        args: Vec<Value>,
    ) -> Result<Result<i64, FredError>, Error> {
        let options = self.write_options()?;
        let slot = fred::util::redis_keyslot(key.as_bytes());
        let command = CustomCommand::new_static("EVALSHA", ClusterHash::Custom(slot), false);
        let mut arguments = Vec::with_capacity(3 + args.len());
        arguments.extend([
            Value::from(script.sha1().clone()),
            Value::from(1),
            Value::from(key),
        ]);
        arguments.extend(args);
        Ok(client.with_options(&options).custom(command, arguments).await)
    }

    /// Runs any other write command (`SET`, `DEL`) under the write options.
    pub(crate) async fn write<T>(
        &self,
        client: &Client,
        command: impl AsyncFnOnce(&fred::clients::WithOptions<Client>) -> Result<T, FredError>,
    ) -> Result<T, Error> {
        let options = self.write_options()?;
        command(&client.with_options(&options))
            .await
            .map_err(|e| self.error(e))
    }

    /// Waits until `replicas` replicas hold every write this connection
    /// sent for `key`'s node so far (`WAIT`), within what is left.
    ///
    /// # Errors
    /// [`Error::Unavailable`] when fewer replicas confirmed in time: the
    /// write reached the primary but is not known to be safe.
    pub(crate) async fn wait_for_replicas(
        &self,
        client: &Client,
        key: &Key,
        replicas: u32,
    ) -> Result<(), Error> {
        let left = self.left()?;
        let options = Options {
            timeout: Some(left),
            max_attempts: Some(1),
            cluster_hash: Some(ClusterHash::Custom(fred::util::redis_keyslot(key.as_bytes()))),
            ..Options::default()
        };
        let wait_ms = i64::try_from(left.as_millis()).unwrap_or(i64::MAX).max(1);
        let confirmed: i64 = self.report(
            client
                .with_options(&options)
                .wait(i64::from(replicas), wait_ms)
                .await
                .map_err(|e| self.error(e)),
        )?;
        if confirmed >= i64::from(replicas) {
            Ok(())
        } else {
            Err(Error::Unavailable(
                format!("the write reached {confirmed} of the {replicas} replicas required in time").into(),
            ))
        }
    }
}
