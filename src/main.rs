use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    latchkey::install_crypto_provider();
    latchkey::cli::Cli::parse().run().await
}
