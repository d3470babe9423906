use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {}
#[derive(Debug, clap::Args)]
pub struct ProfilesArgs {}

pub fn check(_args: &CheckArgs) -> CliResult {
    Err(CliError::failure("not built yet"))
}
pub fn profiles(_args: &ProfilesArgs) -> CliResult {
    Err(CliError::failure("not built yet"))
}
