//! `kho quality profile` and `kho quality clean` (placeholder until the profiling and
//! cleaning commands land).

use kho_server::services::Kho;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ProfileArgs {}

#[derive(clap::Args)]
pub struct CleanArgs {}

pub async fn profile(_kho: &Kho, _args: ProfileArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not available yet")
}

pub async fn clean(_kho: &Kho, _args: CleanArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not available yet")
}
