//! Handing freed memory back to the system.
//!
//! glibc's allocator keeps freed memory in the arena of the thread that allocated it, to
//! hand out again there. A run frees most of its early memory on other threads than those
//! that allocate later: the listing is built by the walk's threads and freed hour by hour as
//! the workers read, and each closed hour's rows leave the workers' tables for the spill
//! (tables::closed). On a month of an organization trail the heap fell from 210 MB to 100
//! MB over the run while the resident memory rose from 200 MB to 390 MB (heaptrack against
//! `/proc/self/status`, BENCHMARKS.md). `malloc_trim(0)` returns the free pages of every
//! arena (since glibc 2.8 it releases whole free pages inside an arena, not only its top).

/// Returns the allocator's free pages to the system, where the allocator keeps them
/// (glibc); elsewhere there is nothing to do.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and only walks the allocator's own free lists;
    // glibc documents it as safe to call at any time from any thread (MT-Safe).
    unsafe {
        libc::malloc_trim(0);
    }
}
