//! A TCP proxy of the tests' own, between a store and Redis, that can make
//! the faults a network makes: delay every byte, silently drop everything
//! on the connections open now (a peer that vanished without closing), or
//! reset them.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// One proxied connection: its fault switches.
#[derive(Default)]
struct Link {
    blackholed: AtomicBool,
    replies_lost: AtomicBool,
    reset: AtomicBool,
}

pub(crate) struct Proxy {
    pub(crate) addr: SocketAddr,
    links: Arc<Mutex<Vec<Arc<Link>>>>,
    accepted: Arc<AtomicU64>,
    delay_ms: Arc<AtomicU64>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a spare port of 127.0.0.1 and forwards to `upstream`.
    pub(crate) async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a spare port");
        let addr = listener.local_addr().expect("bound");
        let links: Arc<Mutex<Vec<Arc<Link>>>> = Arc::default();
        let delay_ms = Arc::new(AtomicU64::new(0));
        let accepted = Arc::new(AtomicU64::new(0));
        let accept = tokio::spawn({
            let (links, delay_ms, accepted) =
                (Arc::clone(&links), Arc::clone(&delay_ms), Arc::clone(&accepted));
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        continue;
                    };
                    let link = Arc::new(Link::default());
                    links.lock().expect("not poisoned").push(Arc::clone(&link));
                    tokio::spawn(forward(client, server, link, Arc::clone(&delay_ms)));
                }
            }
        });
        Self {
            addr,
            links,
            accepted,
            delay_ms,
            accept,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// From now on every chunk waits this long before it is passed on.
    pub(crate) fn delay(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Every connection open now drops all bytes both ways, and stays open
    /// (no FIN, no RST); new connections work normally.
    pub(crate) fn blackhole_open_connections(&self) {
        for link in self.links.lock().expect("not poisoned").iter() {
            link.blackholed.store(true, Ordering::SeqCst);
        }
    }

    /// On every connection open now, requests still reach the server but
    /// its replies are lost: a write happens and its caller never hears.
    pub(crate) fn lose_replies_on_open_connections(&self) {
        for link in self.links.lock().expect("not poisoned").iter() {
            link.replies_lost.store(true, Ordering::SeqCst);
        }
    }

    /// Every connection open now is reset.
    pub(crate) fn reset_open_connections(&self) {
        for link in self.links.lock().expect("not poisoned").drain(..) {
            link.reset.store(true, Ordering::SeqCst);
        }
    }

    /// How many connections the proxy has accepted so far.
    pub(crate) fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst) as usize
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.reset_open_connections();
    }
}

async fn forward(client: TcpStream, server: TcpStream, link: Arc<Link>, delay_ms: Arc<AtomicU64>) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = tokio::spawn(pipe(
        client_read,
        server_write,
        Arc::clone(&link),
        Arc::clone(&delay_ms),
        false,
    ));
    let down = tokio::spawn(pipe(server_read, client_write, Arc::clone(&link), delay_ms, true));
    while !link.reset.load(Ordering::SeqCst) && !up.is_finished() && !down.is_finished() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    up.abort();
    down.abort();
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    link: Arc<Link>,
    delay_ms: Arc<AtomicU64>,
    replies: bool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let delay = delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if link.blackholed.load(Ordering::SeqCst) || (replies && link.replies_lost.load(Ordering::SeqCst)) {
            continue; // lost on the way
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
