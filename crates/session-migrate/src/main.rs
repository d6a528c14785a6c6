//! `session-migrate`: copies every live session from one store to another
//! with a progress bar. Run with `--help` for the options.
#![forbid(unsafe_code)]

mod cli;

use std::{
    process::ExitCode,
    time::{Duration, Instant},
};

use session_core::migrate::{Checkpoint as _, Migration, Report};
use session_migrate::{Endpoint, FileCheckpoint, OpenOptions, open_source, open_target};

use cli::{args, memory, progress};

/// Exit statuses, as the usage text documents them.
const CANNOT_OPEN: u8 = 1;
const BAD_ARGUMENTS: u8 = 2;
const INCOMPLETE: u8 = 3;
const INTERRUPTED: u8 = 130;

#[tokio::main]
async fn main() -> ExitCode {
    // The stores report what they assumed or skipped as tracing warnings.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .with_target(false)
        .without_time()
        .init();
    let arguments = match args::parse(std::env::args().skip(1)) {
        Ok(arguments) => arguments,
        Err(None) => {
            println!("{}", args::usage());
            return ExitCode::SUCCESS;
        }
        Err(Some(message)) => {
            eprintln!("{message}\n\n{}", args::usage());
            return ExitCode::from(BAD_ARGUMENTS);
        }
    };
    let mut options = OpenOptions::default();
    options.timeout = arguments.timeout;
    options.connections = u32::try_from(arguments.concurrency).unwrap_or(u32::MAX);
    options.read_only = arguments.dry_run;
    options.offline = arguments.offline;
    println!("source: {}", arguments.source);
    println!("target: {}", arguments.target);
    // Messages show the endpoints only through their Display, which hides
    // passwords; the stores' own errors never hold a URL's password.
    let source = match open_source(&arguments.source, &options).await {
        Ok(source) => source,
        Err(error) => return cannot_open("the source", &arguments.source, &error),
    };
    let mut target = match open_target(&arguments.target, &options).await {
        Ok(target) => target,
        Err(error) => return cannot_open("the target", &arguments.target, &error),
    };
    if arguments.dry_run
        && let Err(error) = target.length().await
    {
        // A dry run creates no table or database, so a fresh target may not
        // be readable yet: it holds nothing, which is what an empty store says.
        eprintln!("the target cannot be read ({error}); counting it as empty");
        target = Box::new(session_memory::MemoryStore::new());
    }
    let checkpoint = match &arguments.checkpoint {
        None => None,
        Some(path) => match FileCheckpoint::open(path, &job(&arguments.source, &arguments.target)) {
            Ok(checkpoint) => Some(checkpoint),
            Err(error) => {
                eprintln!("could not use the checkpoint: {error}");
                return ExitCode::from(CANNOT_OPEN);
            }
        },
    };
    let total = match source.count().await {
        Ok(total) => total,
        Err(error) => return cannot_open("(counting) the source", &arguments.source, &error),
    };
    println!("sessions in the source: {total}");

    let mut migration = Migration::new(&*source, &*target)
        .concurrency(arguments.concurrency)
        .max_failures(arguments.max_failures)
        .dry_run(arguments.dry_run);
    if let Some(checkpoint) = &checkpoint {
        migration = migration.checkpoint(checkpoint);
    }
    let counts = migration.progress();
    let shown = progress::show(counts.clone(), total);
    let started = Instant::now();
    let finished = tokio::select! {
        report = migration.run() => Some(report),
        _ = tokio::signal::ctrl_c() => None,
    };
    let elapsed = started.elapsed();
    shown.finish(counts.counts().seen());
    let status = match &finished {
        Some(report) => {
            println!("{report}");
            if report.is_complete() { 0 } else { INCOMPLETE }
        }
        None => {
            // The run was dropped mid-way: keep what the checkpoint holds.
            if let Some(Err(error)) = checkpoint.as_ref().map(FileCheckpoint::flush) {
                eprintln!("could not write the checkpoint: {error}");
            }
            println!(
                "interrupted after {} sessions: rerun the same command to resume",
                counts.counts().seen()
            );
            INTERRUPTED
        }
    };
    summary(finished.as_ref(), counts.counts().seen(), elapsed);
    ExitCode::from(status)
}

fn cannot_open(what: &str, side: &Endpoint, error: &session_core::Error) -> ExitCode {
    eprintln!("could not open {what} {side}: {error}");
    ExitCode::from(CANNOT_OPEN)
}

/// What a checkpoint belongs to: both sides, their URLs without secrets
/// (the file keeps a hash of this, and a hash of a password can be guessed
/// back).
fn job(source: &Endpoint, target: &Endpoint) -> String {
    let side = |s: &Endpoint| {
        format!(
            "{}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
            session_migrate::redact(&s.url),
            s.layout,
            s.prefix,
            s.table,
            s.schema,
            s.database
        )
    };
    format!("{}\n->\n{}", side(source), side(target))
}

fn summary(report: Option<&Report>, seen: u64, elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    println!("elapsed: {seconds:.1} s");
    if seconds > 0.0 {
        println!("rate: {:.0} sessions/s", seen as f64 / seconds);
    }
    if let Some(peak) = memory::peak_resident_bytes() {
        println!("peak memory: {:.1} MiB", peak as f64 / (1024.0 * 1024.0));
    }
    if report.is_some_and(|r| r.dry_run) {
        println!("dry run: nothing was written");
    }
}
