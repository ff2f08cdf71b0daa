//! Sessions: issuing them at sign-in, recognising them on each request, listing and revoking.
//! A browser's cookie and an API client's bearer token are the same kind of session.

use uuid::Uuid;

use crate::clock;
use crate::domain::{SecretToken, TokenHash, TokenKind};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{NewSession, Session, Tx, User};

/// "Stay signed in for 30 days".
pub const REMEMBER_SECS: i64 = 30 * 24 * 3600;
/// Sessions without "stay signed in" end after 30 minutes without a request…
pub const IDLE_SECS: i64 = 30 * 60;
/// …and after 12 hours in any case.
pub const ABSOLUTE_SECS: i64 = 12 * 3600;
/// `last_seen_at` is written at most this often, so reads stay reads.
const TOUCH_EVERY_SECS: i64 = 60;
/// A device and address not used to sign in for this long count as new again.
pub const KNOWN_DEVICE_SECS: i64 = 90 * 24 * 3600;
/// How CLI grants are named in the session list ("Latchkey CLI on <host>", from `oauth`).
pub const CLI_NAME: &str = "Latchkey CLI";

/// Where a request came from, as recorded on the session.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

pub struct Issued {
    pub token: SecretToken,
    pub session_id: Uuid,
    pub expires_at: i64,
    pub remember: bool,
    /// No sign-in to this account came from this device and IP address in 90 days: the
    /// caller tells the owner (`mail::notices::new_sign_in`), except at sign-up.
    pub new_device: bool,
}

/// The signed-in caller of a request.
#[derive(Debug, Clone)]
pub struct Current {
    pub session_id: Uuid,
    pub kind: String,
    pub remember: bool,
    pub user: User,
}

/// Starts a session inside the caller's transaction, so an account is never left half-made.
pub async fn issue(
    tx: &mut Tx,
    user_id: Uuid,
    kind: &str,
    remember: bool,
    client: &ClientInfo,
    now: i64,
) -> Result<Issued> {
    let token = SecretToken::generate(TokenKind::Session);
    let session_id = Uuid::now_v7();
    let (idle_secs, expires_at) = if remember {
        (None, now + REMEMBER_SECS)
    } else {
        (Some(IDLE_SECS), now + ABSOLUTE_SECS)
    };
    let user_agent: String = client.user_agent.chars().take(512).collect();
    tx.insert_session(&NewSession {
        id: session_id,
        user_id,
        token_hash: &token.hash().0,
        kind,
        remember,
        idle_secs,
        user_agent: &user_agent,
        ip: &client.ip,
        now,
        expires_at,
    })
    .await?;
    let new_device = tx
        .note_device(
            user_id,
            &describe_device(&client.user_agent),
            &client.ip,
            now,
            now - KNOWN_DEVICE_SECS,
        )
        .await?;
    Ok(Issued {
        token,
        session_id,
        expires_at: effective_expiry(idle_secs, now, expires_at),
        remember,
        new_device,
    })
}

/// When a session ends if it is not used again.
pub fn effective_expiry(idle_secs: Option<i64>, last_seen_at: i64, expires_at: i64) -> i64 {
    idle_secs.map_or(expires_at, |idle| (last_seen_at + idle).min(expires_at))
}

/// Recognises a presented session token. One indexed read; a write at most once a minute.
pub async fn authenticate(state: &AppState, presented: &str) -> Result<Option<Current>> {
    lookup(state, presented, true).await
}

/// Like `authenticate`, without counting as activity: listing a browser's other signed-in
/// accounts must not keep their idle sessions alive.
pub async fn peek(state: &AppState, presented: &str) -> Result<Option<Current>> {
    lookup(state, presented, false).await
}

async fn lookup(state: &AppState, presented: &str, activity: bool) -> Result<Option<Current>> {
    // The CLI's grants are sessions too, presented through their short-lived access tokens.
    let (hash, found) = if let Some(hash) = TokenHash::of_kind(presented, TokenKind::AccessToken) {
        let found = state.store.session_by_access_token(&hash.0).await?;
        (hash, found)
    } else if let Some(hash) = TokenHash::of_kind(presented, TokenKind::Session) {
        let found = state.store.session_by_token_hash(&hash.0).await?;
        (hash, found)
    } else {
        return Ok(None);
    };
    let Some(found) = found else {
        return Ok(None);
    };
    let now = state.clock.now();
    if effective_expiry(found.idle_secs, found.last_seen_at, found.expires_at) <= now {
        return Ok(None);
    }
    if activity && now - found.last_seen_at >= TOUCH_EVERY_SECS {
        state
            .store
            .touch_session(found.session_id, &hash.0, now)
            .await?;
    }
    Ok(Some(Current {
        session_id: found.session_id,
        kind: found.kind,
        remember: found.remember,
        user: found.user,
    }))
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: Uuid,
    pub current: bool,
    /// `web` for browsers, `api` for clients using the JSON API with a bearer token.
    pub kind: String,
    /// "Chrome on macOS", from the User-Agent.
    pub device: String,
    pub ip: String,
    pub remember: bool,
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
}

impl SessionView {
    fn new(s: &Session, current: Uuid) -> Self {
        Self {
            id: s.id,
            current: s.id == current,
            kind: s.kind.clone(),
            device: describe_device(&s.user_agent),
            ip: s.ip.clone(),
            remember: s.remember,
            created_at: clock::rfc3339(s.created_at),
            last_seen_at: clock::rfc3339(s.last_seen_at),
            expires_at: clock::rfc3339(effective_expiry(s.idle_secs, s.last_seen_at, s.expires_at)),
        }
    }
}

pub async fn list(state: &AppState, me: &Current) -> Result<Vec<SessionView>> {
    let sessions = state
        .store
        .sessions_of(me.user.id, state.clock.now())
        .await?;
    Ok(sessions
        .iter()
        .map(|s| SessionView::new(s, me.session_id))
        .collect())
}

/// Ending other sessions needs credentials entered within this window, at sign-in or again
/// (`auth::reauth::reauthenticate`): GitHub's "sudo mode", shorter. ASVS V3.3.4.
pub const RECENT_SIGN_IN_SECS: i64 = 15 * 60;

/// Whether this session's credentials were entered recently enough to end other sessions.
pub async fn recently_signed_in(state: &AppState, me: &Current) -> Result<bool> {
    let at = state.store.credentials_entered_at(me.session_id).await?;
    Ok(at.is_some_and(|at| at > state.clock.now() - RECENT_SIGN_IN_SECS))
}

async fn require_recent_sign_in(state: &AppState, me: &Current) -> Result<()> {
    if recently_signed_in(state, me).await? {
        Ok(())
    } else {
        Err(Error::ReauthenticationRequired)
    }
}

/// Ends one session. Ending one's own is signing out; ending another needs a recent sign-in,
/// so a stolen session cannot lock its owner out.
pub async fn revoke(state: &AppState, me: &Current, id: Uuid) -> Result<()> {
    if id != me.session_id {
        require_recent_sign_in(state, me).await?;
    }
    if state.store.delete_session(me.user.id, id).await? {
        tracing::info!(user = %me.user.id, session = %id, "session revoked");
        Ok(())
    } else {
        Err(Error::NotFound("session"))
    }
}

/// Revokes every session but this one (`keep_current`) or all of them.
pub async fn revoke_all(state: &AppState, me: &Current, keep_current: bool) -> Result<u64> {
    require_recent_sign_in(state, me).await?;
    let keep = keep_current.then_some(me.session_id);
    let n = state.store.delete_sessions_except(me.user.id, keep).await?;
    tracing::info!(user = %me.user.id, revoked = n, keep_current, "sessions revoked");
    Ok(n)
}

pub async fn logout(state: &AppState, me: &Current) -> Result<()> {
    state
        .store
        .delete_session(me.user.id, me.session_id)
        .await?;
    Ok(())
}

/// "Chrome on macOS", or the client's own name when it is not a browser.
pub fn describe_device(user_agent: &str) -> String {
    if user_agent.starts_with(CLI_NAME) {
        return user_agent.to_owned();
    }
    // Headless Chrome is Chrome; woothee only knows the headed name.
    let user_agent = &user_agent.replace("HeadlessChrome/", "Chrome/");
    let parsed = woothee::parser::Parser::new().parse(user_agent);
    match parsed {
        Some(r)
            if r.name != "UNKNOWN" && ["pc", "smartphone", "mobilephone"].contains(&r.category) =>
        {
            let os = match r.os {
                "Mac OSX" => "macOS",
                "UNKNOWN" => "",
                other => other,
            };
            if os.is_empty() {
                r.name.to_owned()
            } else {
                format!("{} on {os}", r.name)
            }
        }
        _ => user_agent
            .split([' ', '/'])
            .next()
            .filter(|s| !s.is_empty())
            .map_or_else(|| "Unknown device".to_owned(), str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::{describe_device, effective_expiry};

    #[test]
    fn browsers_are_named_with_their_system() {
        let chrome_mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
        assert_eq!(describe_device(chrome_mac), "Chrome on macOS");
        assert_eq!(describe_device("curl/8.5.0"), "curl");
        assert_eq!(describe_device(""), "Unknown device");
    }

    #[test]
    fn idle_sessions_end_at_the_earlier_of_idle_and_absolute_expiry() {
        assert_eq!(effective_expiry(None, 100, 5000), 5000);
        assert_eq!(effective_expiry(Some(1800), 100, 5000), 1900);
        assert_eq!(effective_expiry(Some(1800), 4000, 5000), 5000);
    }
}
