//! The one table of answers: each use-case error's status, stable code and the sentence a
//! person reads, in one `match`.

use axum::http::StatusCode;

use super::ApiError;
use crate::error::Error;

/// When to try again while the database is away: the pool notices its return within a second.
const UNAVAILABLE_RETRY_SECS: u64 = 5;

/// The one table of answers: each use-case error's status, stable code and the sentence a
/// person reads. Pages word their refusals from it too (`web::failure`), so a refusal says the
/// same thing in a browser and in a terminal.
impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        use StatusCode as S;
        match e {
            Error::Invalid(errors) => {
                let first = errors.first().map_or("invalid_request", |e| e.code);
                let detail = errors
                    .first()
                    .map_or_else(String::new, |e| e.message.clone());
                Self {
                    errors,
                    ..Self::new(S::UNPROCESSABLE_ENTITY, first, detail)
                }
            }
            Error::EmailTaken => Self::new(
                S::CONFLICT,
                "email_taken",
                "An account already uses this email address.",
            ),
            Error::UsernameTaken => {
                Self::new(S::CONFLICT, "username_taken", "That username is taken.")
            }
            Error::InvalidCredentials => Self::new(
                S::UNAUTHORIZED,
                "invalid_credentials",
                "Incorrect username, email or password.",
            ),
            Error::ReauthenticationRequired => Self::new(
                S::FORBIDDEN,
                "reauthentication_required",
                Error::ReauthenticationRequired.to_string(),
            ),
            Error::TwoFactorRequired => Self::new(
                S::FORBIDDEN,
                "two_factor_required",
                Error::TwoFactorRequired.to_string(),
            ),
            Error::PasswordResetRequired => Self::new(
                S::FORBIDDEN,
                "password_reset_required",
                Error::PasswordResetRequired.to_string(),
            ),
            Error::RateLimited { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(
                    S::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!(
                        "Too many attempts. Try again in {} minute(s).",
                        retry_after_secs.div_ceil(60)
                    ),
                )
            },
            Error::Overloaded { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(
                    S::SERVICE_UNAVAILABLE,
                    "overloaded",
                    "The server is busy. Try again shortly.",
                )
            },
            Error::ChangedMeanwhile => Self::new(
                S::CONFLICT,
                "changed_meanwhile",
                "Something this depends on changed while it was being done. Reload and try again.",
            ),
            Error::Unavailable => Self {
                retry_after: Some(UNAVAILABLE_RETRY_SECS),
                ..Self::new(
                    S::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Latchkey cannot reach its database just now. Try again in a few seconds.",
                )
            },
            Error::Unauthenticated => {
                Self::new(S::UNAUTHORIZED, "unauthenticated", "Sign in to continue.")
            }
            Error::NotFound(what) => {
                Self::new(S::NOT_FOUND, "not_found", format!("No such {what}."))
            }
            Error::InvalidToken => Self::new(
                S::BAD_REQUEST,
                "invalid_token",
                "This link is invalid, has expired or was already used.",
            ),
            Error::InvalidPassword => Self::new(
                S::FORBIDDEN,
                "invalid_password",
                "Your password is incorrect.",
            ),
            Error::MfaAlreadyEnabled => Self::new(
                S::CONFLICT,
                "mfa_already_enabled",
                "Two-factor authentication is already on.",
            ),
            Error::MfaNotEnabled => Self::new(
                S::CONFLICT,
                "mfa_not_enabled",
                "Two-factor authentication is off.",
            ),
            Error::MfaSetupRequired => Self::new(
                S::CONFLICT,
                "mfa_setup_required",
                "Start the set-up first: scan a new QR code.",
            ),
            Error::InvalidCode => {
                Self::new(S::UNAUTHORIZED, "invalid_code", "That code is not valid.")
            }
            Error::CodeReplayed => Self::new(
                S::UNAUTHORIZED,
                "code_already_used",
                "That code was already used. Wait for the next one.",
            ),
            // The server's fault, not the person's: never a hint that the code was wrong, and
            // the cause was logged where it happened (`open_totp`).
            Error::SecondFactorUnavailable => Self::new(
                S::INTERNAL_SERVER_ERROR,
                "second_factor_unavailable",
                "Two-factor codes cannot be checked right now. Try again later, or ask the administrator.",
            ),
            Error::MfaTokenInvalid => Self::new(
                S::UNAUTHORIZED,
                "mfa_token_invalid",
                "This sign-in attempt expired. Sign in again.",
            ),
            Error::SecurityKeysUnavailable => Self::new(
                S::CONFLICT,
                "security_keys_unavailable",
                "Security keys need the server to be reached by a domain name (public_url).",
            ),
            Error::SecurityKeyRejected => Self::new(
                S::UNAUTHORIZED,
                "security_key_invalid",
                "The security key's answer was not accepted.",
            ),
            Error::SecurityKeyAlreadyRegistered => Self::new(
                S::CONFLICT,
                "security_key_already_registered",
                "This security key is already registered.",
            ),
            Error::SecurityKeyRegistrationExpired => Self::new(
                S::CONFLICT,
                "security_key_registration_expired",
                "No registration is waiting, or it expired: start again.",
            ),
            Error::TooManySecurityKeys => Self::new(
                S::CONFLICT,
                "too_many_security_keys",
                "This account has the most security keys it can have.",
            ),
            Error::NoSecurityKeys => Self::new(
                S::CONFLICT,
                "no_security_keys",
                "This account has no security keys: use a code.",
            ),
            Error::CaptchaRequired => Self::new(
                S::BAD_REQUEST,
                "captcha_required",
                "Solve the CAPTCHA first.",
            ),
            Error::CaptchaInvalid => Self::new(
                S::BAD_REQUEST,
                "captcha_invalid",
                "The CAPTCHA solution is invalid, expired or already used. Solve a new one.",
            ),
            Error::ManagedAccount => Self::new(
                S::FORBIDDEN,
                "managed_account",
                "Your account is managed by your organization: contact your Team Admin.",
            ),
            Error::LeaveTeamsFirst(teams) => Self {
                teams: Some(teams),
                ..Self::new(
                    S::CONFLICT,
                    "leave_teams_first",
                    "Leave every team before deleting your account.",
                )
            },
            Error::UsernameUnavailable => Self::new(
                S::CONFLICT,
                "username_unavailable",
                "That username was recently given up and is reserved for a while.",
            ),
            Error::Forbidden => {
                Self::new(S::FORBIDDEN, "forbidden", "Only team admins can do that.")
            }
            Error::EmailUnverified => Self::new(
                S::FORBIDDEN,
                "email_unverified",
                "Confirm your email address first.",
            ),
            Error::LastAdmin => Self::new(
                S::CONFLICT,
                "last_admin",
                "A team needs an admin: promote someone else first, or delete the team.",
            ),
            Error::SlugTaken => Self::new(S::CONFLICT, "slug_taken", "That team URL is taken."),
            Error::InvitationMismatch => Self::new(
                S::FORBIDDEN,
                "invitation_email_mismatch",
                "This invitation was sent to another email address. Sign in with the account that uses it.",
            ),
            Error::AlreadyMember => Self::new(
                S::CONFLICT,
                "already_member",
                "You are already in this team.",
            ),
            Error::AlreadyVerified => Self::new(
                S::CONFLICT,
                "already_verified",
                "Your email address is already confirmed.",
            ),
            Error::Internal(cause) => {
                // Logged once here with its chain; the client only learns the request id.
                tracing::error!(error = ?cause, "internal error");
                Self::new(
                    S::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "Something went wrong on our side.",
                )
            }
        }
    }
}
