//! A team's members: listing them, changing roles, removing someone or leaving. The team
//! always keeps at least one admin.

use super::{as_admin, membership, parse_role, tell_admins};
use crate::auth::Current;
use crate::error::{Error, Result};
use crate::mail::{self, Plain};
use crate::state::AppState;
use crate::store::{Member, Team, Tx};

pub async fn members(
    state: &AppState,
    me: &Current,
    slug: &str,
) -> Result<(Team, String, Vec<Member>)> {
    let (team, role) = membership(state, me, slug).await?;
    let members = state.store.members(team.id).await?;
    Ok((team, role, members))
}

async fn member_named(state: &AppState, team: &Team, username: &str) -> Result<Member> {
    state
        .store
        .members(team.id)
        .await?
        .into_iter()
        .find(|m| m.username.eq_ignore_ascii_case(username))
        .ok_or(Error::NotFound("member"))
}

/// The team and its member `username`, when the caller may remove them (or is leaving):
/// what `remove` checks before it acts, so that a page asks "are you sure?" only about what
/// can be done. `LastAdmin` for the team's last admin.
pub async fn removable(
    state: &AppState,
    me: &Current,
    slug: &str,
    username: &str,
) -> Result<(Team, Member)> {
    let leaving = username.eq_ignore_ascii_case(&me.user.username);
    // Removing someone else is an admin action, with all `as_admin` asks (2FA included).
    let team = if leaving {
        membership(state, me, slug).await?.0
    } else {
        as_admin(state, me, slug).await?
    };
    let members = state.store.members(team.id).await?;
    let admins = members.iter().filter(|m| m.role == "admin").count();
    let member = members
        .into_iter()
        .find(|m| m.username.eq_ignore_ascii_case(username))
        .ok_or(Error::NotFound("member"))?;
    if member.role == "admin" && admins <= 1 {
        return Err(Error::LastAdmin);
    }
    Ok((team, member))
}

/// Changes a member's role; the team keeps at least one admin.
pub async fn set_role(
    state: &AppState,
    me: &Current,
    slug: &str,
    username: &str,
    role: &str,
) -> Result<()> {
    let team = as_admin(state, me, slug).await?;
    let role = parse_role(role)?;
    let member = member_named(state, &team, username).await?;
    let mut tx = state.store.begin().await?;
    tx.lock_team(team.id).await?;
    if member.role == "admin" && role != "admin" && tx.admin_count(team.id).await? <= 1 {
        return Err(Error::LastAdmin);
    }
    tx.set_member_role(team.id, member.user_id, role).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a member (admins), or the caller themself (leaving); the last admin stays.
pub async fn remove(state: &AppState, me: &Current, slug: &str, username: &str) -> Result<()> {
    let leaving = username.eq_ignore_ascii_case(&me.user.username);
    let (team, member) = removable(state, me, slug, username).await?;
    // Checked again under the team's lock: two admins may be leaving at once.
    let mut tx = state.store.begin().await?;
    tx.lock_team(team.id).await?;
    if member.role == "admin" && tx.admin_count(team.id).await? <= 1 {
        return Err(Error::LastAdmin);
    }
    tx.remove_member(team.id, member.user_id).await?;
    if !leaving {
        tell_removed(&mut tx, state, &team, &member, &me.user.username).await?;
    }
    tx.commit().await?;
    let what = if leaving { "left" } else { "was removed from" };
    tell_admins(
        state,
        &team,
        me.user.id,
        &format!("{} {what} {}.", member.username, team.name),
    )
    .await?;
    Ok(())
}

/// Queues the news for the person an admin removed, in the removal's transaction.
async fn tell_removed(
    tx: &mut Tx,
    state: &AppState,
    team: &Team,
    member: &Member,
    admin: &str,
) -> Result<()> {
    let Some(removed) = tx.user_by_id(member.user_id).await? else {
        return Ok(());
    };
    let message = mail::plain(&Plain {
        to: &removed.email,
        greeting: mail::greeting(&removed),
        subject: &format!("You were removed from {}", team.name),
        paragraphs: vec![format!(
            "{admin} removed you from the team {} on Latchkey. Its pages and news are no longer yours to see; your account is as it was.",
            team.name
        )],
        action: None,
    })?;
    tx.enqueue_mail(&message, state.clock.now()).await?;
    Ok(())
}

pub async fn leave(state: &AppState, me: &Current, slug: &str) -> Result<()> {
    remove(state, me, slug, &me.user.username.clone()).await
}
