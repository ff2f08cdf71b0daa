//! Latchkey: a self-hostable account service. The binary is a thin shell over this library,
//! so the tests, the server and the CLI share every piece.

pub mod accounts;
pub mod app;
pub mod auth;
pub mod bench;
pub mod captcha;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod keys;
pub mod mail;
pub mod mfa;
pub mod oauth;
pub mod rotate;
pub mod state;
pub mod store;
pub mod teams;
pub mod telemetry;
pub mod web;

/// One TLS crypto provider for the whole process (ring); call before any TLS is used.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
