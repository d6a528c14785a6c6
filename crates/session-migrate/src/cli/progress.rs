//! The progress bar: sessions done, sessions per second and time left,
//! redrawn from the migration's counters while it runs.

use std::{io::IsTerminal as _, sync::Arc, time::Duration};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use session_core::migrate::Progress;

/// How often the bar is redrawn.
const TICK: Duration = Duration::from_millis(200);
/// How often a line is printed instead when stderr is not a terminal (a log).
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Shows `progress` out of `total` on stderr until the returned handle is
/// stopped.
pub(crate) fn show(progress: Arc<Progress>, total: u64) -> Shown {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    // The template is a constant: if it ever failed to parse, fall back to
    // the default style rather than stop the migration.
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {pos}/{len} sessions  {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    let logging = !std::io::stderr().is_terminal();
    let ticker = {
        let bar = bar.clone();
        tokio::spawn(async move {
            let mut since_log = Duration::ZERO;
            loop {
                tokio::time::sleep(TICK).await;
                let counts = progress.counts();
                bar.set_position(counts.seen());
                // indicatif's own rate shows four decimals: a whole number reads better.
                bar.set_message(format!(
                    "{:.0}/s  ETA {}  copied {} failed {}",
                    bar.per_sec(),
                    indicatif::HumanDuration(bar.eta()),
                    counts.copied,
                    counts.failed
                ));
                since_log += TICK;
                if logging && since_log >= LOG_EVERY {
                    since_log = Duration::ZERO;
                    let rate = bar.per_sec();
                    eprintln!(
                        "{} of {total} sessions, {rate:.0}/s, copied {}, failed {}",
                        counts.seen(),
                        counts.copied,
                        counts.failed
                    );
                }
            }
        })
    };
    Shown { bar, ticker }
}

/// A progress bar being shown.
pub(crate) struct Shown {
    bar: ProgressBar,
    ticker: tokio::task::JoinHandle<()>,
}

impl Shown {
    /// Stops redrawing and leaves the bar at `done`.
    pub(crate) fn finish(self, done: u64) {
        self.ticker.abort();
        self.bar.set_position(done);
        self.bar.set_message(format!("{:.0}/s", self.bar.per_sec()));
        self.bar.abandon();
    }
}
