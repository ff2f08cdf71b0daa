//! Joining a team found by company domain: at once when the team is open, or by asking when
//! an admin must approve.

use super::{as_admin, require_verified, team_named, tell_admins, verified_domain};
use crate::auth::Current;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{Member, Team};

/// Teams with discovery on for the domain of the caller's confirmed address.
pub async fn discoverable(state: &AppState, me: &Current) -> Result<Vec<Team>> {
    match verified_domain(&me.user) {
        Some(domain) => Ok(state.store.discoverable(&domain, me.user.id).await?),
        None => Ok(vec![]),
    }
}

pub enum Joined {
    Member,
    Requested,
}

/// Joins a team discoverable by the caller's domain, or asks to when it needs approval. Teams
/// the caller cannot discover are `NotFound`, exactly like teams that do not exist.
pub async fn join(state: &AppState, me: &Current, slug: &str) -> Result<Joined> {
    require_verified(&me.user)?;
    let team = team_named(state, slug).await?;
    if state.store.role_in(team.id, me.user.id).await?.is_some() {
        return Err(Error::AlreadyMember);
    }
    let domain = verified_domain(&me.user);
    if team.discovery_domain.is_none() || team.discovery_domain != domain {
        return Err(Error::NotFound("team"));
    }
    let now = state.clock.now();
    if team.join_policy == "approval" {
        state
            .store
            .add_join_request(team.id, me.user.id, now)
            .await?;
        tell_admins(
            state,
            &team,
            me.user.id,
            &format!(
                "{} asked to join {}. Approve or decline on the team's members page.",
                me.user.username, team.name
            ),
        )
        .await?;
        return Ok(Joined::Requested);
    }
    let mut tx = state.store.begin().await?;
    tx.add_member(team.id, me.user.id, "member", now).await?;
    tx.commit().await?;
    tell_admins(
        state,
        &team,
        me.user.id,
        &format!("{} joined {}.", me.user.username, team.name),
    )
    .await?;
    Ok(Joined::Member)
}

pub async fn join_requests(state: &AppState, me: &Current, slug: &str) -> Result<Vec<Member>> {
    let team = as_admin(state, me, slug).await?;
    Ok(state.store.join_requests(team.id).await?)
}

/// Approves (`approve = true`) or declines a request to join.
pub async fn decide_request(
    state: &AppState,
    me: &Current,
    slug: &str,
    username: &str,
    approve: bool,
) -> Result<()> {
    let team = as_admin(state, me, slug).await?;
    let request = state
        .store
        .join_requests(team.id)
        .await?
        .into_iter()
        .find(|r| r.username.eq_ignore_ascii_case(username))
        .ok_or(Error::NotFound("join request"))?;
    let mut tx = state.store.begin().await?;
    tx.delete_join_request(team.id, request.user_id).await?;
    if approve {
        tx.add_member(team.id, request.user_id, "member", state.clock.now())
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
