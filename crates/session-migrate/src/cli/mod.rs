//! The command line's parts: arguments, progress display, memory report.

pub(crate) mod args;
pub(crate) mod memory;
pub(crate) mod progress;
