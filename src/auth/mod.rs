//! Signing in and staying signed in: password checks, sessions, throttling.

mod hasher;
pub mod login;
pub mod pepper;
pub mod reauth;
pub mod sessions;
pub mod throttle;

pub use hasher::Hasher;
pub use sessions::{ClientInfo, Current};
