//! `kho` — the one binary: runs the server (`kho serve`) and the command-line
//! interface for the same functions, on the same store, whether or not a server is
//! running on it. Administrative commands are recorded in the audit log as the
//! local operator.

mod bench;
mod cli;
mod codelist;
mod csv_input;
mod exchange;
mod quality;
mod quality_clean;
mod refdata;
mod settings;
mod standardize;

use clap::Parser;

/// mimalloc instead of the system allocator: the gateway's requests allocate and free
/// many small buffers across threads, where glibc's malloc spent about a tenth of the
/// server's CPU time (see docs/adr/0009-gateway-on-hyper-and-rustls.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
