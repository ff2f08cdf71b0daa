//! The use-case layer's error: what went wrong in terms a person or client can act on.
//! `http::problem` and `web` each map it once to their own answer.

use crate::domain::Invalid;
use crate::store::{StoreError, Unique};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input")]
    Invalid(Vec<Invalid>),
    #[error("email address already registered")]
    EmailTaken,
    #[error("username already taken")]
    UsernameTaken,
    #[error("wrong username, email or password")]
    InvalidCredentials,
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error("the server is busy")]
    Overloaded { retry_after_secs: u64 },
    #[error("not signed in")]
    Unauthenticated,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("link invalid, used or expired")]
    InvalidToken,
    #[error("email already verified")]
    AlreadyVerified,
    #[error("wrong password")]
    InvalidPassword,
    #[error(
        "Your password appears in lists of leaked passwords, so it can no longer be used to \
         sign in. Choose a new one with the link we are emailing you, or through \"Trouble \
         signing in?\" if it does not arrive."
    )]
    PasswordResetRequired,
    #[error("two-factor authentication is already on")]
    MfaAlreadyEnabled,
    #[error("two-factor authentication is off")]
    MfaNotEnabled,
    #[error("set up an authenticator first")]
    MfaSetupRequired,
    #[error("wrong code")]
    InvalidCode,
    #[error("code already used")]
    CodeReplayed,
    #[error(
        "Two-factor codes cannot be checked right now. Try again later, or ask the administrator."
    )]
    SecondFactorUnavailable,
    #[error("sign-in step expired")]
    MfaTokenInvalid,
    #[error(
        "Security keys need the server to be reached by a domain name: ask the administrator \
         to set public_url."
    )]
    SecurityKeysUnavailable,
    #[error("The security key's answer was not accepted. Try again.")]
    SecurityKeyRejected,
    #[error("This security key is already registered.")]
    SecurityKeyAlreadyRegistered,
    #[error("Adding the security key took too long. Start again.")]
    SecurityKeyRegistrationExpired,
    #[error("You have the most security keys an account can have. Remove one first.")]
    TooManySecurityKeys,
    #[error("This account has no security keys.")]
    NoSecurityKeys,
    #[error("solve the CAPTCHA")]
    CaptchaRequired,
    #[error("CAPTCHA solution invalid, expired or used")]
    CaptchaInvalid,
    #[error("managed by an enterprise team")]
    ManagedAccount,
    #[error("leave your teams first")]
    LeaveTeamsFirst(Vec<String>),
    #[error("username not available yet")]
    UsernameUnavailable,
    #[error("not allowed")]
    Forbidden,
    #[error(
        "Enter your password again to sign out other sessions: this one signed in more than 15 \
         minutes ago."
    )]
    ReauthenticationRequired,
    #[error(
        "This team requires its admins to use two-factor authentication: turn it on in your \
         account settings first."
    )]
    TwoFactorRequired,
    #[error("confirm your email address first")]
    EmailUnverified,
    #[error("a team needs an admin")]
    LastAdmin,
    #[error("team URL taken")]
    SlugTaken,
    #[error("invitation is for another address")]
    InvitationMismatch,
    #[error("already a member")]
    AlreadyMember,
    /// A concurrent request changed what this one depends on (deleted the account, say).
    #[error("something changed meanwhile")]
    ChangedMeanwhile,
    /// The database cannot be reached just now.
    #[error("the database is unreachable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn invalid(one: Invalid) -> Self {
        Self::Invalid(vec![one])
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate(Unique::Email) => Self::EmailTaken,
            StoreError::Duplicate(Unique::Username) => Self::UsernameTaken,
            StoreError::Duplicate(Unique::TeamSlug) => Self::SlugTaken,
            StoreError::ForeignKey(cause) | StoreError::LostRace(cause) => {
                tracing::info!(error = %cause, "lost a race to a concurrent change");
                Self::ChangedMeanwhile
            }
            StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unreachable");
                Self::Unavailable
            }
            other => Self::Internal(other.into()),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
