//! Security notices: a mail to the owner whenever something changes how the account signs in.

use super::{Notice, Recourse, greeting, notice};
use crate::auth::ClientInfo;
use crate::auth::sessions::describe_device;
use crate::error::Result;
use crate::state::AppState;
use crate::store::{Tx, User};

pub struct What<'a> {
    pub subject: &'a str,
    pub headline: &'a str,
    pub detail: &'a str,
}

/// Queues the notice in the caller's transaction: it goes out exactly when the change lands.
pub async fn queue(
    tx: &mut Tx,
    state: &AppState,
    user: &User,
    client: &ClientInfo,
    what: &What<'_>,
) -> Result<()> {
    let recourse = Recourse {
        forgot_link: state.settings.link("/forgot"),
        sessions_link: state.settings.link("/settings/sessions"),
    };
    enqueue(tx, state, user, client, what, Some(recourse)).await
}

/// The last notice of a deleted account: it sends nobody to reset a password or review the
/// sessions of an account that is gone.
pub async fn queue_farewell(
    tx: &mut Tx,
    state: &AppState,
    user: &User,
    client: &ClientInfo,
    what: &What<'_>,
) -> Result<()> {
    enqueue(tx, state, user, client, what, None).await
}

async fn enqueue(
    tx: &mut Tx,
    state: &AppState,
    user: &User,
    client: &ClientInfo,
    what: &What<'_>,
    recourse: Option<Recourse>,
) -> Result<()> {
    let greeting = greeting(user);
    let device = if client.user_agent.is_empty() {
        "an unknown device".to_owned()
    } else {
        describe_device(&client.user_agent)
    };
    let message = notice(&Notice {
        to: &user.email,
        greeting,
        subject: what.subject,
        headline: what.headline,
        detail: what.detail,
        device: &device,
        ip: if client.ip.is_empty() {
            "unknown"
        } else {
            &client.ip
        },
        when: format!(
            "{} UTC",
            crate::clock::rfc3339(state.clock.now())
                .replace('T', " ")
                .trim_end_matches('Z')
        ),
        recourse,
    })?;
    tx.enqueue_mail(&message, state.clock.now()).await?;
    Ok(())
}

/// Queues "New sign-in" when a session was just issued to a device and address the account
/// has not signed in from lately (ASVS V2.2.3).
pub async fn new_sign_in(
    tx: &mut Tx,
    state: &AppState,
    user: &User,
    client: &ClientInfo,
) -> Result<()> {
    let what = What {
        subject: "New sign-in to your Latchkey account",
        headline: "Your Latchkey account was just signed in to from a new device or address.",
        detail: "We write whenever a sign-in comes from a device and address that have not signed in to your account in the last 90 days.",
    };
    queue(tx, state, user, client, &what).await
}

/// Sends a notice on its own, outside any other change.
pub async fn send(
    state: &AppState,
    user: &User,
    client: &ClientInfo,
    what: &What<'_>,
) -> Result<()> {
    let mut tx = state.store.begin().await?;
    queue(&mut tx, state, user, client, what).await?;
    tx.commit().await?;
    state.mail_queued.notify_one();
    Ok(())
}
