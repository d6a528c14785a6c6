//! The demo binary's start-up: clear errors for bad input and unreachable
//! servers, and a working server otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    process::{Command, Output},
    time::{Duration, Instant},
};

fn demo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_session-demo"))
        .args(args)
        .env_remove("SESSION_STORE_URL")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn an_unknown_scheme_is_named_with_the_ones_that_work() {
    let output = demo(&["--store", "oracle://nope"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("unknown store URL scheme \"oracle\""),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("redis://"));
}

#[test]
fn an_unreachable_server_fails_fast_and_hides_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let output = demo(&["--store", &format!("redis://user:hunter2@127.0.0.1:{port}")]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("could not open the session store") && message.contains("unavailable"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn bad_arguments_print_the_usage() {
    let output = demo(&["--bogus"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("usage: session-demo"));
    let output = demo(&["--listen", "not an address"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn it_serves_both_pages_on_the_memory_store() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_session-demo"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env_remove("SESSION_STORE_URL")
        .env_remove("DEMO_ADMIN_TOKEN")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The admin token is random and printed at start-up.
    let token = {
        use std::io::BufRead;
        let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        lines
            .map_while(Result::ok)
            .find_map(|line| {
                line.split_once("/admin?token=")
                    .map(|(_, token)| token.to_owned())
            })
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let page_with = |path: &str, cookie: &str| -> Option<String> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        Some(response)
    };
    let page = |path: &str| page_with(path, "");
    let home = loop {
        if let Some(response) = page("/") {
            break response;
        }
        assert!(Instant::now() < deadline, "the demo did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    let locked = page("/admin").unwrap_or_default();
    let unlocked = page(&format!("/admin?token={token}")).unwrap_or_default();
    let admin = page_with("/admin", &format!("demo_admin={token}")).unwrap_or_default();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        home.starts_with("HTTP/1.1 200")
            && home.contains("Visits in this session")
            && home.contains("memory"),
        "{home}"
    );
    assert!(
        home.to_ascii_lowercase().contains("set-cookie: id="),
        "a session cookie is set"
    );
    assert!(locked.starts_with("HTTP/1.1 401"), "{locked}");
    assert!(
        unlocked.starts_with("HTTP/1.1 303") && unlocked.contains(&format!("demo_admin={token};")),
        "{unlocked}"
    );
    assert!(admin.contains("Live sessions: <strong>1</strong>"), "{admin}");
}

#[test]
fn an_admin_token_the_operator_gave_is_never_printed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = "operator-chosen-token-0123456789";
    let mut child = Command::new(env!("CARGO_BIN_EXE_session-demo"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env_remove("SESSION_STORE_URL")
        .env("DEMO_ADMIN_TOKEN", token)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let printed: Vec<String> = {
        use std::io::BufRead;
        let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        lines.map_while(Result::ok).take(2).collect()
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(printed.len(), 2, "{printed:?}");
    assert!(printed[1].contains("/admin"), "{printed:?}");
    assert!(!printed.concat().contains(token), "{printed:?}");
}
