//! `/_dev/mail`: the outbox as a page, for trying Latchkey without a mail server. Routed only
//! when no SMTP server is configured and the server listens on loopback.

use askama::Template;
use axum::extract::State;

use super::dates::When;
use super::{Layout, Page, PageResult, render};
use crate::state::AppState;

struct MailView {
    subject: String,
    recipient: String,
    created: When,
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

/// A link as the sentence around it ends it: our links never end in punctuation, so a full
/// stop or comma after one belongs to the sentence.
fn link_in(word: &str) -> &str {
    word.trim_end_matches(['.', ',', ';', ':', '!', '?', ')'])
}

pub async fn mail(State(state): State<AppState>, page: Page) -> PageResult {
    let mails = state
        .store
        .recent_mail(50)
        .await
        .map_err(crate::error::Error::from)?;
    let base = &state.settings.public_url;
    let now = state.clock.now();
    let mails = mails
        .into_iter()
        .map(|m| MailView {
            links: m
                .text_body
                .split_whitespace()
                .filter(|w| w.starts_with(base.as_str()))
                .map(|w| link_in(w).to_owned())
                .collect(),
            subject: m.subject,
            recipient: m.recipient,
            created: When::at(m.created_at, now),
            status: if m.sent_at.is_some() {
                "delivered to the outbox folder"
            } else {
                "queued"
            },
            text_body: m.text_body,
        })
        .collect();
    render(
        page.jar,
        &DevMailPage {
            layout: page.layout,
            mails,
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_link_ending_a_sentence_leaves_the_full_stop_to_it() {
        let link = "http://127.0.0.1:8080/settings/sessions";
        assert_eq!(super::link_in(&format!("{link}.")), link);
        assert_eq!(super::link_in(&format!("{link},")), link);
        assert_eq!(super::link_in(link), link);
        assert_eq!(
            super::link_in("http://x/verify/lkv_a-b_c"),
            "http://x/verify/lkv_a-b_c"
        );
    }
}
