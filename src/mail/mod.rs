//! Mail: messages rendered from templates (plain text + HTML), queued in the durable outbox
//! in the same transaction as the change that caused them, and delivered by `worker`.

mod transport;
pub mod worker;

use askama::Template;

use crate::store::OutboxMessage;

pub use transport::Transport;

#[derive(Template)]
#[template(path = "mail/verify.txt")]
struct VerifyText<'a> {
    greeting: &'a str,
    email: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/verify.html")]
struct VerifyHtml<'a> {
    greeting: &'a str,
    email: &'a str,
    link: &'a str,
}

/// The confirmation message for a new (or newly changed) address.
pub fn verify_email(greeting: &str, email: &str, link: &str) -> anyhow::Result<OutboxMessage> {
    Ok(OutboxMessage {
        recipient: email.to_owned(),
        subject: "Confirm your email address".to_owned(),
        text_body: VerifyText {
            greeting,
            email,
            link,
        }
        .render()?,
        html_body: VerifyHtml {
            greeting,
            email,
            link,
        }
        .render()?,
    })
}
