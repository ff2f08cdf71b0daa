//! The members page's data in one call: membership checked once, the rest looked up together.

use super::membership;
use crate::auth::Current;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{Invitation, Member, Team};

/// Everything the members page shows, with membership checked once: the members, and for
/// admins the pending invitations and join requests, looked up together.
pub struct Roster {
    pub team: Team,
    pub role: String,
    pub members: Vec<Member>,
    pub invitations: Vec<Invitation>,
    pub requests: Vec<Member>,
}

pub async fn roster(state: &AppState, me: &Current, slug: &str) -> Result<Roster> {
    let (team, role) = membership(state, me, slug).await?;
    let store = &state.store;
    let (members, invitations, requests) = if role == "admin" {
        if team.require_2fa && !me.user.mfa_enabled {
            return Err(Error::TwoFactorRequired);
        }
        tokio::try_join!(
            store.members(team.id),
            store.pending_invitations(team.id, state.clock.now()),
            store.join_requests(team.id),
        )?
    } else {
        (store.members(team.id).await?, Vec::new(), Vec::new())
    };
    Ok(Roster {
        team,
        role,
        members,
        invitations,
        requests,
    })
}
