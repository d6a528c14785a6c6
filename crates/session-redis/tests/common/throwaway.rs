//! A redis-server of the test's own on a spare port: killed, paused and
//! resumed by its PID, never touching the shared servers.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

pub(crate) fn spare_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a spare port")
        .local_addr()
        .expect("bound")
        .port()
}

pub(crate) struct Throwaway {
    pub(crate) port: u16,
    child: tokio::process::Child,
}

impl Throwaway {
    pub(crate) async fn start(port: u16) -> Self {
        let child = tokio::process::Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server must be installed (./scripts/test installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "throwaway redis-server did not start on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { port, child }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("the server is running");
        let status = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// SIGSTOP: the server keeps its connections open but answers nothing.
    pub(crate) fn pause(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT after [`pause`](Self::pause).
    pub(crate) fn resume(&self) {
        self.signal("-CONT");
    }

    /// SIGKILL, and wait until the process is gone.
    pub(crate) async fn kill(mut self) {
        self.child.kill().await.expect("killed");
    }
}
