//! The process's resident memory, read from /proc: now, and the peak since
//! the last reset (Linux resets VmHWM when "5" is written to clear_refs).

/// Resets the peak to the current resident size (no-op where unsupported).
pub fn reset() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Resident memory now, MiB.
pub fn resident_mib() -> f64 {
    status_kib("VmRSS:") / 1024.0
}

/// The peak resident memory since the last [`reset`], MiB.
pub fn peak_mib() -> f64 {
    status_kib("VmHWM:") / 1024.0
}

fn status_kib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0.0)
}
