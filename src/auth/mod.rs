//! Signing in and staying signed in: password checks, sessions, throttling, and the recovery
//! link that is the way back in.

mod hasher;
pub mod login;
pub mod pepper;
pub mod reauth;
pub mod recovery;
pub mod sessions;
pub mod throttle;

pub use hasher::Hasher;
pub use sessions::{ClientInfo, Current};
