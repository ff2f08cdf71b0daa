//! Opaque bearer secrets: 256 random bits, a prefix naming their kind, stored only as SHA-256.
//! A fast hash is right here (unlike passwords): the input is uniformly random, so there is
//! nothing to brute-force.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Session,
    EmailVerification,
    /// The second step of a sign-in (`mfa_token`).
    MfaChallenge,
    PasswordReset,
    EmailChangeUndo,
    Invitation,
    /// OAuth access token of a CLI grant (1 hour).
    AccessToken,
    /// OAuth refresh token of a CLI grant (rotating).
    RefreshToken,
    /// OAuth authorization code (60 seconds).
    AuthCode,
    /// RFC 8628 device code.
    DeviceCode,
    /// Held in a cookie by the browser that opened a CLI sign-in: the consent page is for it only.
    ConsentBrowser,
}

/// Characters after the prefix: 32 bytes in unpadded base64url.
const BODY_LEN: usize = 43;

impl TokenKind {
    /// The shape `TokenHash::of_kind` accepts, as a JSON Schema `pattern`. Whether the server
    /// issued the token is for the database to say.
    pub fn pattern(self) -> String {
        format!("^{}[A-Za-z0-9_-]{{{BODY_LEN}}}$", self.prefix())
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::Session => "lks_",
            Self::EmailVerification => "lkv_",
            Self::MfaChallenge => "lkm_",
            Self::PasswordReset => "lkp_",
            Self::EmailChangeUndo => "lku_",
            Self::Invitation => "lki_",
            Self::AccessToken => "lka_",
            Self::RefreshToken => "lkr_",
            Self::AuthCode => "lkc_",
            Self::DeviceCode => "lkd_",
            Self::ConsentBrowser => "lkb_",
        }
    }
}

/// A freshly minted secret: shown once to its holder, never stored.
pub struct SecretToken(String);

impl SecretToken {
    pub fn generate(kind: TokenKind) -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Self(format!(
            "{}{}",
            kind.prefix(),
            URL_SAFE_NO_PAD.encode(bytes)
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

/// What the database keeps of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHash(pub Vec<u8>);

impl TokenHash {
    pub fn of(presented: &str) -> Self {
        Self(Sha256::digest(presented.as_bytes()).to_vec())
    }

    /// Hashes a presented token only if it has the expected shape, so junk never reaches the
    /// database and a token of one kind is never accepted as another.
    pub fn of_kind(presented: &str, kind: TokenKind) -> Option<Self> {
        let body = presented.strip_prefix(kind.prefix())?;
        (body.len() == BODY_LEN
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| Self::of(presented))
    }
}

#[cfg(test)]
mod tests {
    use super::{SecretToken, TokenHash, TokenKind};

    #[test]
    fn tokens_are_prefixed_random_and_recognised_only_as_their_kind() {
        let a = SecretToken::generate(TokenKind::Session);
        let b = SecretToken::generate(TokenKind::Session);
        assert!(a.as_str().starts_with("lks_"));
        assert_ne!(a.as_str(), b.as_str());
        assert_eq!(
            TokenHash::of_kind(a.as_str(), TokenKind::Session),
            Some(a.hash())
        );
        assert_eq!(
            TokenHash::of_kind(a.as_str(), TokenKind::EmailVerification),
            None
        );
        assert_eq!(TokenHash::of_kind("lks_short", TokenKind::Session), None);
    }
}
