//! Value types that are valid by construction: parse once at the edge, trust afterwards.
//! Nothing here knows about HTTP or SQL.

mod email;
mod password;
mod team_slug;
mod text;
mod token;
mod username;

pub use email::Email;
pub use password::{Password, PasswordPolicy};
pub use team_slug::TeamSlug;
pub use text::hidden_in;
pub use token::{SecretToken, TokenHash, TokenKind};
pub use username::Username;

/// Why a value was refused. `code` is stable and reaches API clients as-is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
        }
    }
}
