//! The `foci-hunt` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use foci_hunt::cmd::{self, Cli, Outcome};

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = cli.threads().filter(|t| *t > 0) {
        builder.worker_threads(threads);
    }
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(anyhow::Error::from(e)),
    };
    match runtime.block_on(cmd::run(cli)) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        // `foci-hunt hunt … | head` closing the pipe early is not a failure.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => fail(anyhow::Error::from(e)),
    }
}

/// Scans free and allocate column buffers of MiBs per batch. By default glibc hands the top of
/// its heaps back to the kernel as soon as 128 KiB are free there, and faults them in again for
/// the next batch: a fifth of a 10M-row hunt went to page faults. Keeping up to 1 GiB of freed
/// memory (reused, not grown: peak RSS stays the same) removes them; mimalloc, measured too,
/// held three times the RSS for no gain (`benches/peers`, README "Performance").
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator tunables; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

fn fail(error: anyhow::Error) -> ExitCode {
    eprintln!("foci-hunt: error: {}", foci_hunt::error::one_line(&format!("{error:#}")));
    ExitCode::from(2)
}
