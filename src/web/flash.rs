//! One-time notices shown after a redirect. The cookie holds only a key, never text, so nobody
//! can make our pages say something else.

use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

use crate::http::cookies;
use crate::state::{AppState, Settings};

/// The flash cookie's name: `__Host-` prefixed over HTTPS, like every cookie of ours.
fn cookie_name(settings: &Settings) -> &'static str {
    if settings.secure {
        "__Host-latchkey_flash"
    } else {
        "latchkey_flash"
    }
}

#[derive(Clone, Copy)]
pub enum Flash {
    SignedOut,
    EmailVerified,
    VerificationSent,
    SessionRevoked,
    OthersRevoked,
    ProfileSaved,
    MfaDisabled,
    SetupExpired,
    EmailChangeSent,
    PasswordChanged,
    PasswordReset,
    TeamSaved,
    InvitationSent,
    JoinRequested,
    LeftTeam,
    TeamDeleted,
    PasswordConfirmed,
    SecurityKeyAdded,
    SecurityKeyRemoved,
}

impl Flash {
    fn key(self) -> &'static str {
        match self {
            Self::SignedOut => "signed_out",
            Self::EmailVerified => "email_verified",
            Self::VerificationSent => "verification_sent",
            Self::SessionRevoked => "session_revoked",
            Self::OthersRevoked => "others_revoked",
            Self::ProfileSaved => "profile_saved",
            Self::MfaDisabled => "mfa_disabled",
            Self::SetupExpired => "setup_expired",
            Self::EmailChangeSent => "email_change_sent",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::TeamSaved => "team_saved",
            Self::InvitationSent => "invitation_sent",
            Self::JoinRequested => "join_requested",
            Self::LeftTeam => "left_team",
            Self::TeamDeleted => "team_deleted",
            Self::PasswordConfirmed => "password_confirmed",
            Self::SecurityKeyAdded => "security_key_added",
            Self::SecurityKeyRemoved => "security_key_removed",
        }
    }

    fn text(key: &str) -> Option<&'static str> {
        Some(match key {
            "signed_out" => "You are signed out.",
            "email_verified" => "Your email address is confirmed.",
            "verification_sent" => "We sent a new confirmation link.",
            "session_revoked" => "The session was revoked.",
            "others_revoked" => "All your other sessions are signed out.",
            "profile_saved" => "Your profile is saved.",
            "mfa_disabled" => "Two-factor authentication is off.",
            "setup_expired" => "Start the two-factor set-up again.",
            "email_change_sent" => {
                "We sent a confirmation link to your new address. Your address changes once you open it."
            }
            "password_changed" => {
                "Your password is changed, and every other session is signed out."
            }
            "password_reset" => "Your password is set. Sign in with it.",
            "team_saved" => "Saved.",
            "invitation_sent" => "The invitation is on its way.",
            "join_requested" => "Your request to join was sent to the team's admins.",
            "left_team" => "You left the team.",
            "team_deleted" => "The team was deleted.",
            "password_confirmed" => {
                "Password confirmed: for the next 15 minutes you can sign out other sessions."
            }
            "security_key_added" => "Your security key is added: signing in can use it now.",
            "security_key_removed" => "The security key is removed.",
            _ => return None,
        })
    }
}

/// A redirect that shows `flash` on the next page.
pub fn redirect_with(state: &AppState, jar: CookieJar, to: &str, flash: Flash) -> Response {
    let s = &state.settings;
    let cookie = cookies::base(cookie_name(s), flash.key().to_owned(), s.secure);
    (jar.add(cookie), Redirect::to(to)).into_response()
}

/// Reads the flash for this page and clears it, so it shows once.
pub fn take(settings: &Settings, jar: CookieJar) -> (CookieJar, Option<&'static str>) {
    let name = cookie_name(settings);
    match jar.get(name).and_then(|c| Flash::text(c.value())) {
        Some(text) => (
            jar.remove(cookies::removal(name, settings.secure)),
            Some(text),
        ),
        None => (jar, None),
    }
}
