//! Signing in and staying signed in: password and second-factor checks, sessions, throttling,
//! and the recovery link that is the way back in. Setting up two-factor authentication is
//! `mfa`'s.

pub mod codes;
mod hasher;
pub mod login;
pub mod pepper;
pub mod reauth;
pub mod recovery;
pub mod second_factor;
pub mod sessions;
pub mod throttle;

pub use hasher::Hasher;
pub use sessions::{ClientInfo, Current};
