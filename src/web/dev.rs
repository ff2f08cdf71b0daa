//! `/_dev/mail`: the outbox as a page, for trying Latchkey without a mail server. Routed only
//! when no SMTP server is configured and the server listens on loopback.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

use super::{Layout, layout, render};
use crate::state::AppState;

struct MailView {
    subject: String,
    recipient: String,
    created_at: String,
    status: &'static str,
    text_body: String,
    links: Vec<String>,
}

#[derive(Template)]
#[template(path = "web/dev_mail.html")]
struct DevMailPage {
    layout: Layout,
    mails: Vec<MailView>,
}

pub async fn mail(State(state): State<AppState>, jar: CookieJar) -> Response {
    let mails = match state.store.recent_mail(50).await {
        Ok(m) => m,
        Err(e) => return crate::http::problem::ApiError::from(e).into_response(),
    };
    let base = &state.settings.public_url;
    let mails = mails
        .into_iter()
        .map(|m| MailView {
            links: m
                .text_body
                .split_whitespace()
                .filter(|w| w.starts_with(base.as_str()))
                .map(str::to_owned)
                .collect(),
            subject: m.subject,
            recipient: m.recipient,
            created_at: crate::clock::rfc3339(m.created_at),
            status: if m.sent_at.is_some() {
                "delivered to the outbox folder"
            } else {
                "queued"
            },
            text_body: m.text_body,
        })
        .collect();
    let (jar, layout) = layout(&state, jar, None).await;
    render(jar, &DevMailPage { layout, mails })
}
