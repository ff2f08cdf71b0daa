use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    latchkey::install_crypto_provider();
    let cli = latchkey::cli::Cli::parse();
    let client = cli.is_client();
    match cli.run().await {
        Ok(()) => ExitCode::SUCCESS,
        // Never a backtrace, whatever RUST_BACKTRACE says: a person reads this.
        Err(e) if client => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
