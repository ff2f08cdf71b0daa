//! Teams: creating one, finding one by company domain, joining, roles, leaving. Every function
//! checks membership and role itself: a team is invisible (`NotFound`) to non-members, and
//! admin-only actions answer `Forbidden` to members.

pub mod invitations;
mod joining;
mod members;
mod roster;

pub use joining::{Joined, decide_request, discoverable, join, join_requests};
pub use members::{leave, members, removable, remove, set_role};
pub use roster::{Roster, roster};

use std::collections::HashSet;
use std::sync::LazyLock;

use uuid::Uuid;

use crate::auth::Current;
use crate::domain::{Invalid, TeamSlug};
use crate::error::{Error, Result};
use crate::mail::{self, Plain};
use crate::state::AppState;
use crate::store::{Team, TeamWithRole, User};

pub const ROLES: &[&str] = &["admin", "member", "billing"];
/// Who may join a discoverable team: anyone from the domain, or after an admin approves.
pub const JOIN_POLICIES: &[&str] = &["open", "approval"];
pub const NAME_MAX_CHARS: usize = 60;

static FREE_MAIL: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/free-mail-domains.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
});

/// Whether anyone can get an address at `domain` (so it says nothing about an employer).
pub fn is_free_mail(domain: &str) -> bool {
    FREE_MAIL.contains(domain.to_ascii_lowercase().as_str())
}

/// The domain of the account's address, if confirmed: what team discovery goes by.
fn verified_domain(user: &User) -> Option<String> {
    user.email_verified_at?;
    user.email
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
}

fn require_verified(user: &User) -> Result<()> {
    if user.email_verified_at.is_some() {
        Ok(())
    } else {
        Err(Error::EmailUnverified)
    }
}

pub(crate) fn parse_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    let bad = |message| Error::invalid(Invalid::new("name", "invalid_team_name", message));
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        return Err(bad("Team names are 1–60 characters."));
    }
    if crate::domain::hidden_in(name).is_some() {
        return Err(bad(
            "Team names cannot contain control, invisible or text-direction characters.",
        ));
    }
    Ok(name.to_owned())
}

fn parse_role(raw: &str) -> Result<&'static str> {
    ROLES.iter().find(|r| **r == raw).copied().ok_or_else(|| {
        Error::invalid(Invalid::new(
            "role",
            "invalid_role",
            "Roles are admin, member and billing.",
        ))
    })
}

/// The team at `slug`; `NotFound` for one that does not exist or a slug that could name none.
/// Callers check who may see it.
async fn team_named(state: &AppState, slug: &str) -> Result<Team> {
    let slug = TeamSlug::parse(slug).map_err(|_| Error::NotFound("team"))?;
    state
        .store
        .team_by_slug(slug.as_str())
        .await?
        .ok_or(Error::NotFound("team"))
}

/// The team and the caller's role in it; `NotFound` unless the caller is a member.
pub async fn membership(state: &AppState, me: &Current, slug: &str) -> Result<(Team, String)> {
    let team = team_named(state, slug).await?;
    let role = state
        .store
        .role_in(team.id, me.user.id)
        .await?
        .ok_or(Error::NotFound("team"))?;
    Ok((team, role))
}

/// Like `membership`, but only admins pass (members get `Forbidden`), and in a team that
/// requires it, only admins with 2FA on (ASVS V4.3.1).
pub async fn as_admin(state: &AppState, me: &Current, slug: &str) -> Result<Team> {
    let (team, role) = membership(state, me, slug).await?;
    if role != "admin" {
        return Err(Error::Forbidden);
    }
    if team.require_2fa && !me.user.mfa_enabled {
        return Err(Error::TwoFactorRequired);
    }
    Ok(team)
}

pub async fn create(
    state: &AppState,
    me: &Current,
    name: &str,
    slug: &str,
) -> Result<TeamWithRole> {
    require_verified(&me.user)?;
    let name = parse_name(name);
    let slug = TeamSlug::parse(slug).map_err(Error::invalid);
    let (name, slug) = match (name, slug) {
        (Ok(n), Ok(s)) => (n, s),
        (Err(Error::Invalid(mut a)), Err(Error::Invalid(b))) => {
            a.extend(b);
            return Err(Error::Invalid(a));
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let now = state.clock.now();
    let team = Team {
        id: Uuid::now_v7(),
        slug: slug.as_str().to_owned(),
        name,
        discovery_domain: None,
        join_policy: "open".to_owned(),
        require_2fa: false,
        created_at: now,
    };
    let mut tx = state.store.begin().await?;
    tx.insert_team(&team).await?;
    tx.add_member(team.id, me.user.id, "admin", now).await?;
    tx.commit().await?;
    tracing::info!(user = %me.user.id, team = %team.slug, "team created");
    Ok(TeamWithRole {
        team,
        role: "admin".to_owned(),
    })
}

pub async fn mine(state: &AppState, me: &Current) -> Result<Vec<TeamWithRole>> {
    Ok(state.store.teams_of(me.user.id).await?)
}

#[derive(Debug, Default)]
pub struct TeamChange {
    pub name: Option<String>,
    pub discovery_enabled: Option<bool>,
    pub join_policy: Option<String>,
    pub require_2fa: Option<bool>,
}

/// Admins rename the team, turn discovery on (for the domain of their own confirmed address)
/// or off, and choose whether joining needs their approval.
pub async fn update(
    state: &AppState,
    me: &Current,
    slug: &str,
    change: &TeamChange,
) -> Result<Team> {
    let mut team = as_admin(state, me, slug).await?;
    if let Some(name) = &change.name {
        team.name = parse_name(name)?;
    }
    if let Some(policy) = &change.join_policy {
        if !JOIN_POLICIES.contains(&policy.as_str()) {
            return Err(Error::invalid(Invalid::new(
                "join_policy",
                "invalid_join_policy",
                "Join policy is open or approval.",
            )));
        }
        team.join_policy.clone_from(policy);
    }
    if let Some(required) = change.require_2fa {
        // Nobody can require of others what they do not do themselves, nor lock themselves out.
        if required && !me.user.mfa_enabled {
            return Err(Error::TwoFactorRequired);
        }
        team.require_2fa = required;
    }
    match change.discovery_enabled {
        Some(true) => {
            let domain = verified_domain(&me.user).ok_or(Error::EmailUnverified)?;
            if is_free_mail(&domain) {
                return Err(Error::invalid(Invalid::new(
                    "discovery_enabled",
                    "free_mail_domain",
                    format!(
                        "Teams cannot be discovered by {domain}: anyone can have an address there."
                    ),
                )));
            }
            team.discovery_domain = Some(domain);
        }
        Some(false) => team.discovery_domain = None,
        None => {}
    }
    state.store.update_team(&team).await?;
    Ok(team)
}

/// Deleting a team needs its slug typed out.
pub async fn delete(state: &AppState, me: &Current, slug: &str, confirm_slug: &str) -> Result<()> {
    let team = as_admin(state, me, slug).await?;
    if confirm_slug.trim() != team.slug {
        return Err(Error::invalid(Invalid::new(
            "confirm_slug",
            "confirmation_mismatch",
            "Type the team URL to confirm.",
        )));
    }
    state.store.delete_team(team.id).await?;
    tracing::info!(user = %me.user.id, team = %team.slug, "team deleted");
    Ok(())
}

/// Tells every admin of `team` what `actor` did; the actor, who knows, is not told.
async fn tell_admins(state: &AppState, team: &Team, actor: Uuid, what: &str) -> Result<()> {
    let admins = state.store.members_with_role(team.id, "admin").await?;
    let mut tx = state.store.begin().await?;
    for admin in admins.iter().filter(|a| a.id != actor) {
        let message = mail::plain(&Plain {
            to: &admin.email,
            greeting: mail::greeting(admin),
            subject: &format!("News from {}", team.name),
            paragraphs: vec![what.to_owned()],
            action: Some((
                "See the team",
                state
                    .settings
                    .link(&format!("/teams/{}/members", team.slug)),
            )),
        })?;
        tx.enqueue_mail(&message, state.clock.now()).await?;
    }
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn free_mail_domains_are_known_whatever_their_case() {
        assert!(super::is_free_mail("gmail.com"));
        assert!(super::is_free_mail("Proton.Me"));
        assert!(!super::is_free_mail("acme.test"));
    }
}
