//! Mail: messages rendered from templates (plain text + HTML), queued in the durable outbox
//! in the same transaction as the change that caused them, and delivered by `worker`; the
//! security notices every change to how an account signs in sends (`notices`).

pub mod notices;
mod transport;
pub mod worker;

use askama::Template;

use crate::store::{OutboxMessage, User};

pub use transport::Transport;

/// How mail addresses the person: their name, or their username until they give one.
pub fn greeting(user: &User) -> &str {
    if user.name.is_empty() {
        &user.username
    } else {
        &user.name
    }
}

/// What a confirmation link is for: the address of a new account, or the new address of an
/// existing one. The subject and the "not you?" line differ.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Confirming {
    NewAccount,
    AddressChange,
}

#[derive(Template)]
#[template(path = "mail/verify.txt")]
struct VerifyText<'a> {
    greeting: &'a str,
    email: &'a str,
    link: &'a str,
    change: bool,
}

#[derive(Template)]
#[template(path = "mail/verify.html")]
struct VerifyHtml<'a> {
    greeting: &'a str,
    email: &'a str,
    link: &'a str,
    change: bool,
}

/// A security notice: something changed how the account signs in. Names the time, device
/// and address, never a secret.
pub struct Notice<'a> {
    pub to: &'a str,
    pub greeting: &'a str,
    pub subject: &'a str,
    pub headline: &'a str,
    pub detail: &'a str,
    pub device: &'a str,
    pub ip: &'a str,
    pub when: String,
    /// What to do if it was not them; `None` when the account is gone and nothing can be.
    pub recourse: Option<Recourse>,
}

/// Where a notice sends someone who did not make the change.
pub struct Recourse {
    pub forgot_link: String,
    pub sessions_link: String,
}

#[derive(Template)]
#[template(path = "mail/notice.txt")]
struct NoticeText<'a> {
    n: &'a Notice<'a>,
}

#[derive(Template)]
#[template(path = "mail/notice.html")]
struct NoticeHtml<'a> {
    n: &'a Notice<'a>,
}

pub fn notice(n: &Notice<'_>) -> anyhow::Result<OutboxMessage> {
    Ok(OutboxMessage {
        recipient: n.to.to_owned(),
        subject: n.subject.to_owned(),
        text_body: NoticeText { n }.render()?,
        html_body: NoticeHtml { n }.render()?,
    })
}

/// A plain message: paragraphs and, optionally, one button with its link.
pub struct Plain<'a> {
    pub to: &'a str,
    pub greeting: &'a str,
    pub subject: &'a str,
    pub paragraphs: Vec<String>,
    pub action: Option<(&'a str, String)>,
}

#[derive(Template)]
#[template(path = "mail/message.txt")]
struct PlainText<'a> {
    greeting: &'a str,
    paragraphs: &'a [String],
    action: &'a Option<(&'a str, String)>,
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct PlainHtml<'a> {
    greeting: &'a str,
    paragraphs: &'a [String],
    action: &'a Option<(&'a str, String)>,
}

pub fn plain(m: &Plain<'_>) -> anyhow::Result<OutboxMessage> {
    Ok(OutboxMessage {
        recipient: m.to.to_owned(),
        subject: m.subject.to_owned(),
        text_body: PlainText {
            greeting: m.greeting,
            paragraphs: &m.paragraphs,
            action: &m.action,
        }
        .render()?,
        html_body: PlainHtml {
            greeting: m.greeting,
            paragraphs: &m.paragraphs,
            action: &m.action,
        }
        .render()?,
    })
}

/// The confirmation message for a new (or newly changed) address.
pub fn verify_email(
    greeting: &str,
    email: &str,
    link: &str,
    confirming: Confirming,
) -> anyhow::Result<OutboxMessage> {
    let change = confirming == Confirming::AddressChange;
    let subject = if change {
        "Confirm your new email address"
    } else {
        "Confirm your email address"
    };
    Ok(OutboxMessage {
        recipient: email.to_owned(),
        subject: subject.to_owned(),
        text_body: VerifyText {
            greeting,
            email,
            link,
            change,
        }
        .render()?,
        html_body: VerifyHtml {
            greeting,
            email,
            link,
            change,
        }
        .render()?,
    })
}
