//! The `leakhound` command. Argument parsing and the wiring of sources, policy and reports to
//! exit codes live in [`cli`] (part of this binary, not of the library); all the scanning work
//! lives in the library.

mod cli;

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keep the heap on small pages, also where transparent huge pages are on for every mapping
/// (`always`; the `no_thp` feature of mimalloc covers `madvise`). A huge page is 2 MiB of memory
/// touched and zeroed at its first write: a worker's buffers and regex caches rounded up to huge
/// pages doubled the peak RSS of a scan and cost time in short runs such as the hooks.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes one integer argument and changes no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    no_huge_pages();
    cli::run()
}
