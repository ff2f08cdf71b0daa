//! The profile: name and role (asked at onboarding), the username, and the public view of it
//! that collaborators see.

use crate::auth::Current;
use crate::domain::{Invalid, Username};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::User;

/// Roles offered at onboarding, as Postman's welcome screen asks "What's your role?".
pub const ROLES: &[&str] = &[
    "developer",
    "qa_engineer",
    "devops",
    "architect",
    "product_manager",
    "technical_writer",
    "student",
    "other",
];

/// A username given up stays reserved for its former owner this long (links and mentions
/// keep pointing at them, and nobody can impersonate them at once).
pub const USERNAME_COOLDOWN_SECS: i64 = 30 * 24 * 3600;

#[derive(Debug, Default)]
pub struct ProfileChange {
    pub name: Option<String>,
    pub role: Option<String>,
    pub username: Option<String>,
}

pub async fn update(state: &AppState, me: &Current, change: &ProfileChange) -> Result<User> {
    let mut errors = Vec::new();
    let name = change.name.as_deref().map(str::trim);
    errors.extend(name.and_then(super::signup::name_problem));
    let role = change.role.as_deref().map(str::trim);
    if role.is_some_and(|r| !r.is_empty() && !ROLES.contains(&r)) {
        errors.push(Invalid::new(
            "role",
            "invalid_role",
            format!("Role must be one of: {}.", ROLES.join(", ")),
        ));
    }
    let username = match change.username.as_deref() {
        Some(raw) => Username::parse(raw).map_err(|e| errors.push(e)).ok(),
        None => None,
    };
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let now = state.clock.now();
    if let Some(u) = username.filter(|u| u.as_str() != me.user.username) {
        if state
            .store
            .username_in_cooldown(&u.normalized(), Some(me.user.id), now)
            .await?
        {
            return Err(Error::UsernameUnavailable);
        }
        let mut tx = state.store.begin().await?;
        let old_norm = me.user.username.to_ascii_lowercase();
        // Of renames racing each other, the first wins and retires the old name; the others
        // started from a name the account no longer has.
        let renamed = tx
            .rename(
                me.user.id,
                &old_norm,
                u.as_str(),
                &u.normalized(),
                now,
                now + USERNAME_COOLDOWN_SECS,
            )
            .await?;
        if !renamed {
            return Err(Error::ChangedMeanwhile);
        }
        tx.commit().await?;
        tracing::info!(user = %me.user.id, "username changed");
    }
    state
        .store
        .update_profile(me.user.id, name, role, now)
        .await?;
    state
        .store
        .user_by_id(me.user.id)
        .await?
        .ok_or(Error::NotFound("account"))
}

/// What collaborators see of an account: never the email address.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PublicProfile {
    pub username: String,
    pub name: String,
    pub role: String,
    pub member_since: String,
}

pub async fn public(state: &AppState, username: &str) -> Result<PublicProfile> {
    // Anything that is not a valid username names nobody (and never reaches the database).
    let norm = Username::parse(username)
        .map_err(|_| Error::NotFound("user"))?
        .normalized();
    let user = state
        .store
        .user_by_username(&norm)
        .await?
        .ok_or(Error::NotFound("user"))?;
    Ok(PublicProfile {
        username: user.username,
        name: user.name,
        role: user.role,
        member_since: crate::clock::rfc3339(user.created_at),
    })
}
