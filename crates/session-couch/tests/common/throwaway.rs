//! A CouchDB-compatible server of the test's own, on a free port, started
//! from the installed test server's files and faulted by its PID.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

/// A throwaway server; killed, and its data folder removed, when dropped.
pub(crate) struct Throwaway {
    child: tokio::process::Child,
    port: u16,
    data: PathBuf,
}

/// A port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free local port")
}

impl Throwaway {
    /// A server on a free port.
    pub(crate) async fn start_anywhere() -> Self {
        Self::start(free_port()).await
    }

    /// A server on `port`, answering before this returns.
    pub(crate) async fn start(port: u16) -> Self {
        let dir = std::env::var("COUCH_SERVER_DIR")
            .unwrap_or_else(|_| "/var/tmp/session-stores-services/couch".into());
        let data = std::env::temp_dir().join(format!("couch-throwaway-{port}"));
        std::fs::create_dir_all(&data).expect("a data directory for the throwaway server");
        let child = tokio::process::Command::new("node")
            .arg(format!("{dir}/server.js"))
            .arg(port.to_string())
            .arg(&data)
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node and the test server must be installed (./scripts/test installs them)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while reqwest::get(format!("http://127.0.0.1:{port}/")).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "the throwaway server did not start on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, port, data }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Sends `signal` (`STOP`, `CONT`) to the server by its PID.
    fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("the throwaway server is running");
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing answers.
    pub(crate) fn pause(&self) {
        self.signal("STOP");
    }

    /// Lets a paused server run again (SIGCONT).
    pub(crate) fn resume(&self) {
        self.signal("CONT");
    }

    /// Kills the server (SIGKILL) and waits for it to be gone.
    pub(crate) async fn kill(mut self) {
        self.child
            .kill()
            .await
            .expect("the throwaway server can be killed");
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        // Gone first, so that it writes nothing into the folder once removed.
        let _ = self.child.start_kill();
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Err(e) = std::fs::remove_dir_all(&self.data)
            && e.kind() != std::io::ErrorKind::NotFound
            && !std::thread::panicking()
        {
            panic!("removing {}: {e}", self.data.display());
        }
    }
}
