//! The `foci-hunt` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use foci_hunt::cmd::{self, Cli, Outcome};

// Scans allocate and free column buffers of MiBs per batch; glibc's malloc hands them back to
// the kernel and faults them in again (a fifth of a 10M-row hunt's time, `benches/peers`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
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

fn fail(error: anyhow::Error) -> ExitCode {
    eprintln!("foci-hunt: error: {}", foci_hunt::error::one_line(&format!("{error:#}")));
    ExitCode::from(2)
}
