//! Giving memory back to the system after big work.
//!
//! mimalloc returns the pages a thread freed only when that thread
//! allocates again and a purge delay has passed. The analysis thread works
//! in bursts (one analysis of all-packages.nix per keystroke) and then
//! waits, so what a burst freed stayed resident. Collecting its heap, and
//! the stdout thread's after it wrote a big answer, gives that back.
//!
//! The analysis thread collects once it has been idle for [`IDLE`] after
//! big work, not after each analysis: the pages given back are faulted in
//! again by the next analysis, which on all-packages.nix cost a keystroke
//! 1.5-2 ms (a fifth of it). A typing burst keeps its pages, under the
//! 50 MiB the server is held to (doc/benchmarks.md); a pause gives them
//! back. Small work is not worth the call, and requests are not collected
//! after: the next big request would fault the pages in again, which
//! showed in the latency of back-to-back document symbols and tokens.

use std::time::Duration;

/// How long the analysis thread waits after big work, with nothing more
/// to do, before it gives memory back.
pub const IDLE: Duration = Duration::from_secs(2);

/// Resident memory above which the analysis thread gives memory back at
/// once after big work, instead of waiting for [`IDLE`]: a typing burst
/// leaves a few MiB of freed pages per keystroke of all-packages.nix.
pub const BUDGET: u64 = 45 << 20;

/// The process's resident memory, in bytes (`None` where /proc is not).
/// Read from `VmRSS`, in kB, which does not depend on the page size.
pub fn resident() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Work that took at least this long allocated enough to collect after.
const BIG_WORK: Duration = Duration::from_millis(2);

/// Answers or frames at least this big are collected after.
const BIG_ANSWER: usize = 256 << 10;

/// Whether work that took `took` and produced `bytes` is worth collecting after.
pub fn is_big(took: Duration, bytes: usize) -> bool {
    took >= BIG_WORK || bytes >= BIG_ANSWER
}

/// Returns the calling thread's freed pages to the system now.
pub fn give_back_freed() {
    // SAFETY: `mi_collect` only walks the calling thread's own heap and the
    // arenas' free lists; it is safe to call at any time.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

/// [`give_back_freed`] when the work was big.
pub fn give_back_after(took: Duration, bytes: usize) {
    if is_big(took, bytes) {
        give_back_freed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn resident_memory_is_read_from_proc() {
        let bytes = resident().expect("VmRSS in /proc/self/status");
        // A test process holds at least a MiB and far less than a TiB.
        assert!(bytes > 1 << 20 && bytes < 1 << 40, "{bytes}");
    }

    #[test]
    fn only_big_work_is_collected_after() {
        assert!(!is_big(Duration::from_micros(300), 2 << 10));
        assert!(is_big(Duration::from_millis(12), 100));
        assert!(is_big(Duration::from_micros(50), 3 << 20));
    }
}
