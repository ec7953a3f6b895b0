//! Giving memory back to the system after big work.
//!
//! mimalloc returns the pages a thread freed only when that thread
//! allocates again and a purge delay has passed. The analysis thread works
//! in bursts (one analysis of all-packages.nix per keystroke) and then
//! waits, so what one keystroke freed stayed resident while the next
//! allocated afresh: 50 MiB at the peak of a typing burst for 20 MiB of
//! live data. Collecting its heap after big work, and the stdout thread's
//! after it wrote a big answer, keeps that peak near 40 MiB. Small work is
//! not worth the call, and requests are not collected after: the pages
//! given back are faulted in again by the next big request, which showed
//! in the latency of back-to-back document symbols and tokens.

use std::time::Duration;

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
    fn only_big_work_is_collected_after() {
        assert!(!is_big(Duration::from_micros(300), 2 << 10));
        assert!(is_big(Duration::from_millis(12), 100));
        assert!(is_big(Duration::from_micros(50), 3 << 20));
    }
}
