//! The profile: name and role (asked at onboarding) and the username.

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

#[derive(Debug, Default)]
pub struct ProfileChange {
    pub name: Option<String>,
    pub role: Option<String>,
    pub username: Option<String>,
}

pub async fn update(state: &AppState, me: &Current, change: &ProfileChange) -> Result<User> {
    let mut errors = Vec::new();
    let name = change.name.as_deref().map(str::trim);
    if name.is_some_and(|n| n.chars().count() > super::signup::NAME_MAX_CHARS) {
        errors.push(Invalid::new(
            "name",
            "name_too_long",
            "Names are at most 100 characters.",
        ));
    }
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
    let now = crate::clock::now();
    if let Some(u) = username.filter(|u| u.as_str() != me.user.username) {
        state
            .store
            .update_username(me.user.id, u.as_str(), &u.normalized(), now)
            .await?;
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
