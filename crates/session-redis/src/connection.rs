//! The fred client or pool a store talks through, and the connection tasks
//! it owns (if it opened them itself).

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use fred::{
    clients::{Client, Pool},
    error::Error as FredError,
    interfaces::ClientLike,
    types::ConnectHandle,
};

pub(crate) struct Connection {
    handle: Handle,
    /// Connection tasks this store started; aborted when the store goes, so
    /// dropping a store never leaves a task reconnecting forever.
    owned_tasks: Vec<ConnectHandle>,
    watchdog: Watchdog,
    /// How long the server may stay silent while calls time out before the
    /// connections are replaced: the store's timeout.
    patience: Duration,
}

/// Notices connections that stopped answering while commands keep going
/// out. fred's own check only fires after a whole timeout without any write,
/// which never comes under steady load, so a dead connection would make
/// every call time out for as long as the operating system keeps it open.
/// When calls have timed out for a whole timeout with no answer at all in
/// between, the connections are replaced.
struct Watchdog {
    origin: Instant,
    /// Nanoseconds after `origin` of the last answer from the server.
    answered_at: AtomicU64,
    /// Nanoseconds after `origin` of the last forced reconnect.
    kicked_at: AtomicU64,
}

impl Watchdog {
    fn new() -> Self {
        Self {
            origin: Instant::now(),
            answered_at: AtomicU64::new(0),
            kicked_at: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn answered(&self) {
        self.answered_at.store(self.now(), Ordering::Relaxed);
    }

    /// After a timeout: whether the server has been silent for longer than
    /// `timeout` and no reconnect was forced within the last `timeout`.
    fn kick_due(&self, timeout: Duration) -> bool {
        let (now, span) = (self.now(), u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX));
        let silent = now.saturating_sub(self.answered_at.load(Ordering::Relaxed)) > span;
        let kicked = self.kicked_at.load(Ordering::Relaxed);
        silent
            && now.saturating_sub(kicked) > span
            && self
                .kicked_at
                .compare_exchange(kicked, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

enum Handle {
    Client(Client),
    Pool(Pool),
}

impl Connection {
    pub(crate) fn borrowed_client(client: Client) -> Self {
        Self {
            handle: Handle::Client(client),
            owned_tasks: Vec::new(),
            watchdog: Watchdog::new(),
            patience: Duration::from_secs(5),
        }
    }

    pub(crate) fn borrowed_pool(pool: Pool) -> Self {
        Self {
            handle: Handle::Pool(pool),
            owned_tasks: Vec::new(),
            watchdog: Watchdog::new(),
            patience: Duration::from_secs(5),
        }
    }

    pub(crate) fn owned(pool: Pool, tasks: Vec<ConnectHandle>) -> Self {
        Self {
            handle: Handle::Pool(pool),
            owned_tasks: tasks,
            watchdog: Watchdog::new(),
            patience: Duration::from_secs(5),
        }
    }

    /// A client for the next command (round-robin over a pool).
    pub(crate) fn client(&self) -> &Client {
        match &self.handle {
            Handle::Client(client) => client,
            Handle::Pool(pool) => pool.next(),
        }
    }

    /// How long calls may time out with no answer at all before the
    /// connections are replaced.
    pub(crate) fn with_patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// The server answered a call (a reply or an error reply).
    pub(crate) fn answered(&self) {
        self.watchdog.answered();
    }

    /// A call timed out; replaces the connections if they have been silent
    /// for longer than the patience.
    pub(crate) fn timed_out(&self) {
        if !self.watchdog.kick_due(self.patience) {
            return;
        }
        let clients = match &self.handle {
            Handle::Client(client) => vec![client.clone()],
            Handle::Pool(pool) => pool.clients().to_vec(),
        };
        for client in clients {
            tokio::spawn(async move {
                let _ = client.force_reconnection().await;
            });
        }
    }

    pub(crate) fn is_clustered(&self) -> bool {
        self.client().is_clustered()
    }

    pub(crate) async fn wait_for_connect(&self) -> Result<(), FredError> {
        match &self.handle {
            Handle::Client(client) => client.wait_for_connect().await,
            Handle::Pool(pool) => pool.wait_for_connect().await,
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        for task in &self.owned_tasks {
            task.abort();
        }
    }
}
