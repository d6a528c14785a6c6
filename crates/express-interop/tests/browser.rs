//! The two-way run in a real browser (headless Chromium, driven by
//! `e2e/browser.mjs`) for two pairings: connect-redis and
//! connect-pg-simple. Screenshots land in `ARTIFACTS_DIR` (default
//! `artifacts/e2e`).

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use express_interop::pairings::{self, Pairing, postgres_url};
use session_sql::Layout;

async fn in_chromium(name: &str, pairing: Pairing) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e/browser.mjs");
    let playwright =
        std::env::var("PLAYWRIGHT_DIR").unwrap_or_else(|_| "/var/tmp/session-stores-services/browser".into());
    let output = tokio::process::Command::new("node")
        .arg(&script)
        .env("NODE_APP", format!("http://{}", pairing.express.address))
        .env("RUST_APP", format!("http://{}", pairing.rust))
        .env("PAIRING", name)
        .env(
            "ARTIFACTS_DIR",
            std::env::var("ARTIFACTS_DIR")
                .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../artifacts/e2e").into()),
        )
        .env("PLAYWRIGHT_DIR", playwright)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{name} in Chromium: {said}");
    assert!(said.contains("steps passed in Chromium"), "{name}: {said}");
    pairing.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_redis_in_a_browser() {
    in_chromium("connect-redis", pairings::connect_redis().await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_pg_simple_in_a_browser() {
    let pairing = pairings::sql("connect-pg-simple", Layout::ConnectPgSimple, &postgres_url())
        .await
        .unwrap();
    in_chromium("connect-pg-simple", pairing).await;
}
