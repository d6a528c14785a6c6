//! The fred client or pool a store talks through, and the connection tasks
//! it owns (if it opened them itself).

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
        }
    }

    pub(crate) fn borrowed_pool(pool: Pool) -> Self {
        Self {
            handle: Handle::Pool(pool),
            owned_tasks: Vec::new(),
        }
    }

    pub(crate) fn owned(pool: Pool, tasks: Vec<ConnectHandle>) -> Self {
        Self {
            handle: Handle::Pool(pool),
            owned_tasks: tasks,
        }
    }

    /// A client for the next command (round-robin over a pool).
    pub(crate) fn client(&self) -> &Client {
        match &self.handle {
            Handle::Client(client) => client,
            Handle::Pool(pool) => pool.next(),
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
