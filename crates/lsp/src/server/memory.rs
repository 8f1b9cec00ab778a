//! Memory given back to the system. The server's memory should follow the
//! text it holds; glibc's malloc keeps freed memory where two of its rules
//! meet a large document:
//!
//! * its mmap threshold is dynamic: after a block above it is freed, the
//!   threshold rises to that block's size (up to 32 MB), so the next
//!   20 MB buffers (a `didOpen` message as it is read and decoded, the text
//!   copied out for the first parse) come from the heap, where freeing them
//!   leaves them resident;
//! * each thread that allocates may get an arena of its own (up to 8 per
//!   core), and a block freed there stays there.
//!
//! So the server fixes the threshold (blocks from 1 MB up are mapped and
//! unmapped when freed; the analysis's own blocks are far smaller), keeps
//! two arenas, and trims the heap after a large document's first analysis
//! ([`give_back`]). Elsewhere (another C library, another system, another
//! allocator: the `tokenguard` binary's is mimalloc, see its
//! `crates/core/allocator.rs`) these are no-ops.

/// Blocks from this size up are mapped on their own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 1024 * 1024;

/// Tunes the allocator for the server; called once, when it starts.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets allocator parameters; both are valid
    // values for their options, and it is called before the server's
    // threads allocate concurrently.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Returns the free memory at the top of the heaps to the system (after a
/// large document's buffers were dropped).
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only releases free memory; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
