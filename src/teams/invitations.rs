//! Invitations: an admin invites an address with a role; the mail's link (7 days, single use,
//! kept as a hash) lets only an account with that confirmed address join. Someone without an
//! account signs up through the link and lands in the team.

use uuid::Uuid;

use super::{as_admin, parse_role, tell_admins};
use crate::auth::Current;
use crate::domain::{Email, SecretToken, TokenHash, TokenKind};
use crate::error::{Error, Result};
use crate::mail::{self, Plain};
use crate::state::AppState;
use crate::store::{Invitation, Team, Tx, User};

pub const TTL_SECS: i64 = 7 * 24 * 3600;

pub async fn invite(
    state: &AppState,
    me: &Current,
    slug: &str,
    email: &str,
    role: &str,
) -> Result<Invitation> {
    let team = as_admin(state, me, slug).await?;
    let role = parse_role(role)?;
    let email = Email::parse(email).map_err(Error::invalid)?;
    if let Some(user) = state.store.user_by_email(&email.normalized()).await?
        && state.store.role_in(team.id, user.id).await?.is_some()
    {
        return Err(Error::AlreadyMember);
    }
    let now = state.clock.now();
    let invitation = Invitation {
        id: Uuid::now_v7(),
        team_id: team.id,
        email: email.as_str().to_owned(),
        email_norm: email.normalized(),
        role: role.to_owned(),
        invited_by: Some(me.user.id),
        created_at: now,
        expires_at: now + TTL_SECS,
    };
    let token = SecretToken::generate(TokenKind::Invitation);
    let mut tx = state.store.begin().await?;
    tx.insert_invitation(&invitation, &token.hash().0, me.user.id)
        .await?;
    queue_mail(&mut tx, state, &team, &me.user, &invitation, &token).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(invitation)
}

async fn queue_mail(
    tx: &mut Tx,
    state: &AppState,
    team: &Team,
    inviter: &User,
    invitation: &Invitation,
    token: &SecretToken,
) -> Result<()> {
    let message = mail::plain(&Plain {
        to: &invitation.email,
        greeting: "there",
        subject: &format!("{} invited you to {} on Latchkey", inviter.username, team.name),
        paragraphs: vec![
            format!(
                "{} invited you to join the team {} as {}.",
                inviter.username, team.name, invitation.role
            ),
            "The link works for 7 days. If you have no Latchkey account yet, you can create one with this address from the link.".to_owned(),
        ],
        action: Some(("Join the team", state.settings.link(&format!("/invitations/{}", token.as_str())))),
    })?;
    tx.enqueue_mail(&message, state.clock.now()).await?;
    Ok(())
}

pub async fn pending(state: &AppState, me: &Current, slug: &str) -> Result<Vec<Invitation>> {
    let team = as_admin(state, me, slug).await?;
    Ok(state
        .store
        .pending_invitations(team.id, state.clock.now())
        .await?)
}

/// Sends the invitation again with a new link and a new week; the old link stops working.
pub async fn resend(state: &AppState, me: &Current, slug: &str, id: Uuid) -> Result<Invitation> {
    let team = as_admin(state, me, slug).await?;
    let mut invitation = state
        .store
        .invitation(team.id, id)
        .await?
        .ok_or(Error::NotFound("invitation"))?;
    let token = SecretToken::generate(TokenKind::Invitation);
    invitation.expires_at = state.clock.now() + TTL_SECS;
    let mut tx = state.store.begin().await?;
    tx.reissue_invitation(invitation.id, &token.hash().0, invitation.expires_at)
        .await?;
    queue_mail(&mut tx, state, &team, &me.user, &invitation, &token).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(invitation)
}

pub async fn revoke(state: &AppState, me: &Current, slug: &str, id: Uuid) -> Result<()> {
    let team = as_admin(state, me, slug).await?;
    if state.store.delete_invitation(team.id, id).await? {
        Ok(())
    } else {
        Err(Error::NotFound("invitation"))
    }
}

/// A live invitation and its team, found by the link's token.
pub async fn lookup(state: &AppState, presented: &str) -> Result<(Invitation, Team)> {
    let hash = TokenHash::of_kind(presented, TokenKind::Invitation).ok_or(Error::InvalidToken)?;
    let invitation = state
        .store
        .invitation_by_token(&hash.0)
        .await?
        .filter(|i| i.expires_at > state.clock.now())
        .ok_or(Error::InvalidToken)?;
    let team = state
        .store
        .team_by_id(invitation.team_id)
        .await?
        .ok_or(Error::InvalidToken)?;
    Ok((invitation, team))
}

/// The username of who sent the invitation, while their account exists.
pub async fn inviter(state: &AppState, invitation: &Invitation) -> Result<Option<String>> {
    let Some(id) = invitation.invited_by else {
        return Ok(None);
    };
    Ok(state.store.user_by_id(id).await?.map(|u| u.username))
}

/// Declines an invitation: whoever holds the link may, signed in or not, and the link stops
/// working. The team's admins see it gone from the pending invitations.
pub async fn decline(state: &AppState, presented: &str) -> Result<Team> {
    let (invitation, team) = lookup(state, presented).await?;
    if !state
        .store
        .delete_invitation(invitation.team_id, invitation.id)
        .await?
    {
        return Err(Error::InvalidToken);
    }
    Ok(team)
}

/// Accepts an invitation for the signed-in account, which must have confirmed the invited
/// address.
pub async fn accept(state: &AppState, me: &Current, presented: &str) -> Result<Team> {
    let (invitation, team) = lookup(state, presented).await?;
    if me.user.email.to_lowercase() != invitation.email_norm {
        return Err(Error::InvitationMismatch);
    }
    if me.user.email_verified_at.is_none() {
        return Err(Error::EmailUnverified);
    }
    let mut tx = state.store.begin().await?;
    join_by_invitation(&mut tx, &invitation, me.user.id, state.clock.now()).await?;
    tx.commit().await?;
    tell_admins(
        state,
        &team,
        me.user.id,
        &format!(
            "{} accepted the invitation and joined {}.",
            me.user.username, team.name
        ),
    )
    .await?;
    Ok(team)
}

/// Uses the invitation up and adds the member, in the caller's transaction (sign-up uses it
/// too). `InvalidToken` if someone used it first, `AlreadyMember` if they were in already.
pub(crate) async fn join_by_invitation(
    tx: &mut Tx,
    invitation: &Invitation,
    user_id: Uuid,
    now: i64,
) -> Result<()> {
    if !tx.take_invitation(invitation.id).await? {
        return Err(Error::InvalidToken);
    }
    if !tx
        .add_member(invitation.team_id, user_id, &invitation.role, now)
        .await?
    {
        return Err(Error::AlreadyMember);
    }
    Ok(())
}
