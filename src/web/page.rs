//! The page context: what every page knows about its request (who is signed in, their teams,
//! their recovery codes, the other accounts in this browser), looked up once, together, with
//! failures reaching the handler instead of vanishing.

use askama::Template;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::CookieJar;

use super::error::PageError;
use super::{csrf, flash, switcher};
use crate::auth::Current;
use crate::error::Error;
use crate::http::extract::Auth;
use crate::state::AppState;
use crate::store::TeamWithRole;

/// What the shared layout shows around every page.
pub struct Layout {
    pub user: Option<String>,
    pub unverified: bool,
    pub unverified_email: String,
    /// Set when 2FA is on and few recovery codes are left.
    pub low_codes: Option<i64>,
    /// The signed-in person's teams (slug, name), for the switcher.
    pub teams: Vec<(String, String)>,
    /// Other accounts signed in in this browser, to switch to.
    pub other_accounts: Vec<String>,
    /// Whether "+ Add account" is offered (fewer than five signed in).
    pub can_add_account: bool,
    pub flash: Option<&'static str>,
    pub csrf: String,
}

/// One request's page context. `Page` (anyone) and `MyPage` (signed in; others are sent to
/// `/login`) are extractors; `Page::build` makes one where a handler learns who it is only
/// later (after a form sign-in, or with the session a form post checked).
pub struct Page<Me = Option<Current>> {
    /// The browser's cookies, the flash cleared and a CSRF cookie set: respond with this jar.
    pub jar: CookieJar,
    pub layout: Layout,
    pub me: Me,
    /// The signed-in person's teams and roles.
    pub teams: Vec<TeamWithRole>,
    /// Unused recovery codes, when two-factor authentication is on.
    pub codes_left: Option<i64>,
    /// How many accounts are signed in in this browser.
    pub accounts: usize,
}

pub type MyPage = Page<Current>;

/// Who a page is for: anyone (`Option<Current>`) or a signed-in person (`Current`).
pub trait Viewer: Send + Sync {
    fn current(&self) -> Option<&Current>;
}

impl Viewer for Option<Current> {
    fn current(&self) -> Option<&Current> {
        self.as_ref()
    }
}

impl Viewer for Current {
    fn current(&self) -> Option<&Current> {
        Some(self)
    }
}

impl<M: Viewer> Page<M> {
    pub async fn build(state: &AppState, jar: CookieJar, me: M) -> Result<Self, PageError> {
        let who = me.current();
        let (jar, flash) = flash::take(&state.settings, jar);
        let (jar, csrf) = csrf::ensure(&state.settings, jar);
        let (teams, codes_left, signed_in) = match who {
            Some(m) => {
                let codes = async {
                    if m.user.mfa_enabled {
                        crate::mfa::codes_left(state, &m.user).await.map(Some)
                    } else {
                        Ok(None)
                    }
                };
                let teams = async { Ok::<_, Error>(state.store.teams_of(m.user.id).await?) };
                tokio::try_join!(teams, codes, switcher::signed_in(state, &jar))?
            }
            None => (Vec::new(), None, Vec::new()),
        };
        let layout = Layout {
            user: who.map(|m| m.user.username.clone()),
            unverified: who.is_some_and(|m| m.user.email_verified_at.is_none()),
            unverified_email: who.map(|m| m.user.email.clone()).unwrap_or_default(),
            low_codes: codes_left.filter(|left| *left <= crate::mfa::LOW_CODES),
            teams: teams
                .iter()
                .map(|t| (t.team.slug.clone(), t.team.name.clone()))
                .collect(),
            other_accounts: signed_in
                .iter()
                .filter(|(_, c)| who.is_some_and(|m| c.user.id != m.user.id))
                .map(|(_, c)| c.user.username.clone())
                .collect(),
            can_add_account: who.is_some() && signed_in.len() < switcher::MAX_ACCOUNTS,
            flash,
            csrf,
        };
        Ok(Self {
            jar,
            layout,
            me,
            teams,
            codes_left,
            accounts: signed_in.len(),
        })
    }
}

impl FromRequestParts<AppState> for Page {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let me = <Auth as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map_err(PageError::from)?
            .map(|Auth(me)| me);
        Self::build(state, CookieJar::from_headers(&parts.headers), me).await
    }
}

impl FromRequestParts<AppState> for MyPage {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let me = <Auth as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map_err(PageError::from)?
            .map(|Auth(me)| me)
            .ok_or(PageError::SignIn)?;
        MyPage::build(state, CookieJar::from_headers(&parts.headers), me).await
    }
}

impl<Me> Page<Me> {
    /// A page that only says something: a heading and a sentence.
    pub fn message(
        self,
        status: StatusCode,
        heading: &'static str,
        text: impl Into<String>,
    ) -> PageResult {
        let page = MessagePage {
            layout: self.layout,
            heading,
            text: text.into(),
        };
        render_status(status, self.jar, &page)
    }

    /// A confirmation step: says what is about to happen and posts `confirmed=yes` with the
    /// CSRF token to `action`, where the handler goes ahead. No script needed.
    pub fn confirm(
        self,
        heading: impl Into<String>,
        text: impl Into<String>,
        action: impl Into<String>,
        button: impl Into<String>,
    ) -> PageResult {
        let page = ConfirmPage {
            layout: self.layout,
            heading: heading.into(),
            text: text.into(),
            action: action.into(),
            button: button.into(),
        };
        render(self.jar, &page)
    }
}

#[derive(Template)]
#[template(path = "web/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    heading: String,
    text: String,
    action: String,
    button: String,
}

impl<Me> Page<Me> {
    /// "This link cannot be used": a spent, expired or made-up link from a mail, shown as soon
    /// as it is opened, with the way to a new one.
    pub fn dead_link(
        self,
        text: &'static str,
        href: &'static str,
        label: &'static str,
    ) -> PageResult {
        let page = DeadLinkPage {
            layout: self.layout,
            text,
            href,
            label,
        };
        render_status(StatusCode::BAD_REQUEST, self.jar, &page)
    }
}

#[derive(Template)]
#[template(path = "web/dead_link.html")]
struct DeadLinkPage {
    layout: Layout,
    text: &'static str,
    href: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "web/message.html")]
struct MessagePage {
    layout: Layout,
    heading: &'static str,
    text: String,
}

pub type PageResult = Result<Response, PageError>;

pub fn render(jar: CookieJar, page: &impl Template) -> PageResult {
    render_status(StatusCode::OK, jar, page)
}

pub fn render_status(status: StatusCode, jar: CookieJar, page: &impl Template) -> PageResult {
    let html = page
        .render()
        .map_err(|e| PageError::from(Error::Internal(e.into())))?;
    Ok((status, jar, Html(html)).into_response())
}

/// 200 without errors, `failed` with them: for forms shown again with their messages.
pub fn status_for(errors: &[String], failed: StatusCode) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        failed
    }
}
