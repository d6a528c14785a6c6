//! The demo web app: your session (a visit counter, log in, log out) and an
//! admin page (every live session, their count, clear, log a user out
//! everywhere), on any store.
//!
//! ```text
//! cargo run -p session-demo                                   # memory store, http://127.0.0.1:3000
//! SESSION_STORE_URL=redis://127.0.0.1:6379 cargo run -p session-demo
//! cargo run -p session-demo -- --store postgres://postgres@127.0.0.1/test --listen 127.0.0.1:3001
//! ```
#![forbid(unsafe_code)]

mod backend;
mod guard;
mod pages;

use std::{net::SocketAddr, process::ExitCode, sync::Arc};

const USAGE: &str = "usage: session-demo [--store URL] [--listen ADDR]
  --store URL    memory (default), redis://, rediss://, redis-cluster://, postgres://,
                 mysql://, mariadb://, sqlite:PATH, or http(s):// for CouchDB
                 (or set SESSION_STORE_URL)
  --listen ADDR  where to listen (default 127.0.0.1:3000, or set DEMO_LISTEN)
  --admin-token TOKEN
                 the token the admin pages need, 16+ characters (or set
                 DEMO_ADMIN_TOKEN; default: a random one, printed at start-up)
  --public-url URL
                 the address browsers use, when behind a proxy (or set
                 DEMO_PUBLIC_URL); https:// makes every cookie Secure";

#[tokio::main]
async fn main() -> ExitCode {
    let Arguments {
        store_url,
        listen,
        guard,
    } = match arguments() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let opened = match backend::open(store_url.as_deref()).await {
        Ok(opened) => opened,
        Err(error) => {
            let shown = store_url
                .as_deref()
                .map(session_migrate::redact)
                .unwrap_or_default();
            eprintln!("could not open the session store {shown}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("could not listen on {listen}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("session demo on http://{listen}/ with store {}", opened.shown);
    // A token the operator chose is theirs already: printing it would only
    // put it in a log.
    match guard.generated_token() {
        Some(token) => println!("admin pages: http://{listen}/admin?token={token}"),
        None => println!("admin pages: http://{listen}/admin (with the admin token you gave)"),
    }
    let app = pages::router(
        pages::App {
            store: opened.store,
            label: Arc::from(opened.kind),
        },
        guard,
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("the server failed: {error}");
            ExitCode::FAILURE
        }
    }
}

struct Arguments {
    store_url: Option<String>,
    listen: SocketAddr,
    guard: guard::Guard,
}

fn arguments() -> Result<Arguments, String> {
    let mut store = std::env::var("SESSION_STORE_URL").ok();
    let mut listen = std::env::var("DEMO_LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let mut admin_token = std::env::var("DEMO_ADMIN_TOKEN").ok();
    let mut public_url = std::env::var("DEMO_PUBLIC_URL").ok();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--store" => store = Some(args.next().ok_or("--store needs a URL")?),
            "--listen" => listen = args.next().ok_or("--listen needs an address")?,
            "--admin-token" => admin_token = Some(args.next().ok_or("--admin-token needs a token")?),
            "--public-url" => public_url = Some(args.next().ok_or("--public-url needs a URL")?),
            "--help" | "-h" => return Err("".into()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let listen = listen
        .parse()
        .map_err(|e| format!("bad listen address {listen:?}: {e}"))?;
    let guard = guard::Guard::new(admin_token, public_url.as_deref())?;
    Ok(Arguments {
        store_url: store,
        listen,
        guard,
    })
}
