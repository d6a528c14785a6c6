//! Fills a store with sessions for measuring a migration:
//!
//! ```text
//! cargo run --release -p session-migrate --example seed -- redis://127.0.0.1:6379 bench 1000000
//! ```
//!
//! writes 1 000 000 sessions (a user id, a name, a few roles; expiring in
//! two hours) under the Redis prefix `bench`, 256 at a time.

use std::{process::ExitCode, time::Instant};

use futures_util::{StreamExt as _, stream};
use session_core::{Session, SessionId, Store};
use session_redis::RedisStore;
use time::{Duration, OffsetDateTime};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, prefix, count] = args.as_slice() else {
        eprintln!("usage: seed REDIS_URL PREFIX COUNT");
        return ExitCode::from(2);
    };
    let Ok(count) = count.parse::<usize>() else {
        eprintln!("COUNT must be a whole number");
        return ExitCode::from(2);
    };
    let store = match RedisStore::builder()
        .url(url)
        .prefix(prefix)
        .pool_size(4)
        .build()
        .await
    {
        Ok(store) => store,
        Err(error) => {
            eprintln!("could not open Redis: {error}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let expiry = OffsetDateTime::now_utc() + Duration::hours(2);
    let failures = stream::iter(0..count)
        .map(|n| {
            let store = &store;
            async move {
                let mut session =
                    Session::new().expiring_at(expiry + Duration::milliseconds(n as i64 % 100_000));
                session.insert("user_id", n as u64).ok()?;
                session.insert("name", format!("user {n}")).ok()?;
                session.insert("roles", ["reader", "writer"]).ok()?;
                store.set(&SessionId::generate(), &session).await.ok()
            }
        })
        .buffer_unordered(256)
        .filter(|written| std::future::ready(written.is_none()))
        .count()
        .await;
    println!(
        "wrote {} sessions in {:.1} s ({failures} failed)",
        count - failures,
        started.elapsed().as_secs_f64()
    );
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
