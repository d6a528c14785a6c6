//! The two sides of the Express interop tests: the Rust app (axum with
//! `session-middleware` on any store) and the Express app (a Node process
//! running `node/app.mjs` with the pinned npm packages), serving the same
//! routes so one cookie jar can move between them:
//!
//! | route | does |
//! |---|---|
//! | `GET /whoami` | `{"user": …, "data": {…every key but the cookie…}}`; Express adds the cookie's `expires` and `originalMaxAge` |
//! | `POST /login?user=U` | a new session id, then `user = U` |
//! | `POST /login?user=U&maxAge=MS` | (Express) the same, the session living `MS` ms of its own (`req.session.cookie.maxAge = MS`); `maxAge=null` makes it a browser-session cookie |
//! | `POST /set?key=K&value=V` | one key of the session |
//! | `POST /set?key=K&value=V&hold_ms=MS` | (Rust) the same, after reading the session and holding it `MS` ms, as a slow request does |
//! | `POST /logout` | destroys the session |
//!
//! Both sign the cookie with the same secrets and name (`connect.sid`).
//! The Express app trusts `X-Forwarded-Proto` from 127.0.0.1 (`trust
//! proxy`), so a request saying `https` gets a session's `Secure` cookie.
//! [`two_way::share_logins_data_and_logouts`] and then
//! [`lifetimes::keep_lifetimes_and_cookie_flags`] are the runs every
//! pairing's test makes, each with its own cookie jar; further Rust apps
//! on a pairing's store (`rolling`, other cookie attributes) come from
//! [`Pairing::start_rust_app`](pairings::Pairing::start_rust_app).

pub mod lifetimes;
pub mod pairings;
pub mod parallel;
pub mod two_way;

use std::{collections::HashMap, net::SocketAddr, path::PathBuf, process::Stdio, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::Query,
    routing::{get, post},
};
use serde_json::{Value, json};
use session_core::Store;
use session_middleware::{Session, SessionError, SessionLayer, SessionLayerBuilder};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    net::TcpListener,
    process::{Child, Command},
};

/// The secrets both apps sign with (the first signs, both verify).
pub const SECRETS: [&str; 2] = ["interop secret (current)", "interop secret (previous)"];

/// The cookie lifetime both apps give a session.
pub const MAX_AGE: Duration = Duration::from_secs(3600);

/// The Rust app on `store`, its session layer set up by `configure` after
/// the secrets and lifetime both apps share, served on 127.0.0.1 at a free
/// port; stops with the runtime.
///
/// # Errors
/// When the middleware refuses its options or no port is free.
pub async fn start_rust_app(
    store: Arc<dyn Store>,
    configure: impl FnOnce(SessionLayerBuilder) -> SessionLayerBuilder,
) -> Result<SocketAddr, Box<dyn std::error::Error>> {
    let sessions = configure(
        SessionLayer::builder(store)
            .secret(SECRETS[0])
            .secret(SECRETS[1])
            .max_age(Some(MAX_AGE)),
    )
    .build()?;
    let app = Router::new()
        .route("/whoami", get(whoami))
        .route("/login", post(login))
        .route("/set", post(set))
        .route("/logout", post(logout))
        .layer(sessions);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(address)
}

async fn whoami(session: Session) -> Result<Json<Value>, SessionError> {
    let mut data = serde_json::Map::new();
    for key in ["user", "color", "visits"] {
        if let Some(value) = session.get::<Value>(key).await? {
            data.insert(key.into(), value);
        }
    }
    let user = data.get("user").cloned().unwrap_or(Value::Null);
    Ok(Json(json!({ "user": user, "data": data })))
}

async fn login(
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, SessionError> {
    let user = query.get("user").cloned().unwrap_or_default();
    // A new id on login, as the Express side does.
    session.regenerate().await?;
    session.insert("user", &user).await?;
    Ok(Json(json!({ "user": user })))
}

async fn set(
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, SessionError> {
    let key = query.get("key").cloned().unwrap_or_default();
    let value = query.get("value").cloned().unwrap_or_default();
    if let Some(hold) = query.get("hold_ms").and_then(|ms| ms.parse().ok()) {
        // Read first, then hold: the save comes after others' saves.
        session.get::<Value>("user").await?;
        tokio::time::sleep(Duration::from_millis(hold)).await;
    }
    session.insert(key, value).await?;
    Ok(Json(json!({ "ok": true })))
}

async fn logout(session: Session) -> Result<Json<Value>, SessionError> {
    session.destroy().await?;
    Ok(Json(json!({ "ok": true })))
}

/// The Express app, a Node process: killed when dropped.
pub struct ExpressApp {
    child: Child,
    /// Where it listens.
    pub address: SocketAddr,
}

impl ExpressApp {
    /// Starts `node/app.mjs` with store `store` (as the app names it, e.g.
    /// `connect-redis`) and its settings in `env`, from the npm packages in
    /// `EXPRESS_PEERS_DIR` (`./scripts/test` installs them), and waits until
    /// it listens.
    ///
    /// # Errors
    /// When Node or the packages are missing, or the app does not start
    /// within 60 seconds (Node loads slowly on a busy machine) (its output is in the error).
    pub async fn start(store: &str, env: &[(&str, &str)]) -> Result<Self, Box<dyn std::error::Error>> {
        let peers = std::env::var("EXPRESS_PEERS_DIR")
            .unwrap_or_else(|_| "/var/tmp/session-stores-services/express".into());
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node/app.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .env("EXPRESS_PEERS_DIR", &peers)
            .env("STORE", store)
            .env("SECRETS", SECRETS.join(","))
            .env("MAX_AGE_MS", MAX_AGE.as_millis().to_string())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("could not start node (run ./scripts/test, which installs it): {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(port) = line.strip_prefix("listening ") {
                    return Ok::<_, std::io::Error>(port.trim().parse::<u16>().ok());
                }
            }
            Ok(None)
        })
        .await
        .map_err(|_| "the Express app did not start within 60 s")??
        .ok_or("the Express app ended before it listened (is EXPRESS_PEERS_DIR installed?)")?;
        Ok(Self {
            child,
            address: SocketAddr::from(([127, 0, 0, 1], port)),
        })
    }
}

impl Drop for ExpressApp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
