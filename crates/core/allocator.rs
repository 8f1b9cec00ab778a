//! The binary's memory allocator: mimalloc instead of the platform's.
//!
//! A check allocates and frees millions of small blocks (YAML events,
//! scalars, tree nodes) on every thread. On the corpus, glibc's allocator
//! spent about a sixth of the run in malloc and free, and musl's, which the
//! static Linux release binaries use, is slower still; mimalloc's
//! thread-local free lists take most of that cost away.
//!
//! mimalloc keeps freed pages for a while (10 ms by default) before giving
//! them back to the system. In a run as short as a check that means it
//! hardly gives any back (a peak of 73 MB on the corpus against glibc's 59
//! MB), and the server's peak with the 20 MB file open was 102 MB against
//! glibc's 66 MB. [`return_freed_pages_at_once`], called first thing in
//! every run, sets that delay to 0: 58-61 MB and 70 MB.

use std::ffi::{c_int, c_long};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v2's `mi_option_purge_delay` (the 16th of its `mi_option_t`,
/// counted from 0; the `v2` feature pins that version in Cargo.toml).
const PURGE_DELAY: c_int = 15;

unsafe extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
    #[cfg(test)]
    fn mi_option_get(option: c_int) -> c_long;
}

/// Freed pages go back to the system at once instead of after a delay.
pub fn return_freed_pages_at_once() {
    // SAFETY: sets one of mimalloc's options, which it reads atomically;
    // the option index is the linked version's (see PURGE_DELAY).
    unsafe { mi_option_set(PURGE_DELAY, 0) }
}

/// The purge delay in force, in milliseconds.
#[cfg(test)]
fn purge_delay() -> c_long {
    // SAFETY: reads one of mimalloc's options (see PURGE_DELAY).
    unsafe { mi_option_get(PURGE_DELAY) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index is mimalloc's purge delay: its default is 10 ms (unless
    /// the environment sets it), and setting it is read back.
    #[test]
    fn the_purge_delay_is_the_option_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none()
            && std::env::var_os("MIMALLOC_RESET_DELAY").is_none()
        {
            assert_eq!(purge_delay(), 10);
        }
        return_freed_pages_at_once();
        assert_eq!(purge_delay(), 0);
    }
}
