//! Sign-up: an account, its first session and its confirmation mail, all or nothing.

use uuid::Uuid;

use crate::auth::sessions::{self, ClientInfo, Issued};
use crate::auth::throttle::{self, Rule};
use crate::domain::{Email, Invalid, Password, PasswordPolicy, Username};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{NewUser, User};

#[derive(Debug, Default)]
pub struct SignupInput {
    pub email: String,
    pub username: String,
    pub password: String,
    pub accept_terms: bool,
    pub name: Option<String>,
    /// An invitation link's token: signing up with the invited address joins the team and
    /// confirms the address (the person just followed a link mailed to it).
    pub invitation: Option<String>,
}

pub struct SignedUp {
    pub user: User,
    pub session: Issued,
}

pub const NAME_MAX_CHARS: usize = 100;

/// What is wrong with a display name, if anything.
pub fn name_problem(name: &str) -> Option<Invalid> {
    if name.chars().count() > NAME_MAX_CHARS {
        Some(Invalid::new(
            "name",
            "name_too_long",
            "Names are at most 100 characters.",
        ))
    } else if crate::domain::hidden_in(name).is_some() {
        // A name shows in rosters and mail as typed: nothing in it may hide or reorder it.
        Some(Invalid::new(
            "name",
            "invalid_name",
            "Names cannot contain control, invisible or text-direction characters.",
        ))
    } else {
        None
    }
}

pub async fn signup(
    state: &AppState,
    input: &SignupInput,
    kind: &str,
    client: &ClientInfo,
) -> Result<SignedUp> {
    let (email, username, password, name) = parse(input)?;

    let t = &state.settings.throttle;
    let rule = Rule {
        burst: t.signup_burst,
        interval_secs: t.signup_interval_secs,
    };
    let ip_key = format!("signup-ip:{}", client.ip);
    throttle::check(state, &ip_key, rule).await?;
    throttle::hit(state, &ip_key, rule).await?;

    let password_hash = state.hasher.hash(password.expose()).await?;
    let now = state.clock.now();
    let mut user = User {
        id: Uuid::now_v7(),
        email: email.as_str().to_owned(),
        email_verified_at: None,
        username: username.as_str().to_owned(),
        password_hash: Some(password_hash),
        name,
        role: String::new(),
        mfa_enabled: false,
        managed_by: None,
        created_at: now,
    };

    // An invitation counts only for the address it was sent to.
    let invitation = match input.invitation.as_deref() {
        Some(token) => crate::teams::invitations::lookup(state, token)
            .await
            .ok()
            .map(|(inv, _)| inv)
            .filter(|inv| inv.email_norm == email.normalized()),
        None => None,
    };
    if state
        .store
        .username_in_cooldown(&username.normalized(), None, now)
        .await?
    {
        return Err(Error::UsernameUnavailable);
    }
    let mut tx = state.store.begin().await?;
    tx.insert_user(&NewUser {
        id: user.id,
        email: &user.email,
        email_norm: &email.normalized(),
        username: &user.username,
        username_norm: &username.normalized(),
        password_hash: user.password_hash.as_deref().unwrap_or_default(),
        name: &user.name,
        now,
    })
    .await?;
    match &invitation {
        Some(inv) => {
            crate::teams::invitations::join_by_invitation(&mut tx, inv, user.id, now).await?;
            tx.mark_email_verified(user.id, &user.email, now).await?;
        }
        None => {
            super::queue_confirmation(&mut tx, state, &user, &user.email, super::Purpose::Signup)
                .await?
        }
    }
    if invitation.is_some() {
        user.email_verified_at = Some(now);
    }
    let session = sessions::issue(&mut tx, user.id, kind, false, client, now).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    tracing::info!(user = %user.id, "account created");
    Ok(SignedUp { user, session })
}

/// Checks every field and reports every problem at once, as a form would show them.
fn parse(input: &SignupInput) -> Result<(Email, Username, Password, String)> {
    let mut errors = Vec::new();
    let email = Email::parse(&input.email).map_err(|e| errors.push(e)).ok();
    let username = Username::parse(&input.username)
        .map_err(|e| errors.push(e))
        .ok();
    let password = Password::parse(
        &input.password,
        &PasswordPolicy {
            username: Some(input.username.trim()),
            email: Some(input.email.trim()),
        },
    )
    .map_err(|e| errors.push(e))
    .ok();
    let name = input.name.as_deref().unwrap_or("").trim().to_owned();
    errors.extend(name_problem(&name));
    if !input.accept_terms {
        errors.push(Invalid::new(
            "accept_terms",
            "terms_not_accepted",
            "Accept the terms of service to create an account.",
        ));
    }
    match (email, username, password) {
        (Some(e), Some(u), Some(p)) if errors.is_empty() => Ok((e, u, p, name)),
        _ => Err(Error::Invalid(errors)),
    }
}
