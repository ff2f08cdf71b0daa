//! Team pages: `/teams` (mine, and those I could join), onboarding's "Create or join a
//! team", creating a team and its overview. The members, settings and invitation pages are in
//! the modules named after their addresses.

pub mod invitations;
pub mod members;
pub mod settings;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::guard::{NoFields, SignedInForm};
use super::{
    Flash, Layout, MyPage, PageError, PageResult, form_messages, redirect_with, render,
    render_status,
};
use crate::auth::Current;
use crate::error::Error;
use crate::http::extract::Path;
use crate::state::AppState;
use crate::store::{Team, TeamWithRole};
use crate::teams;

/// One answer for every team page's failures: a 404 page for teams the person cannot see, the
/// message for what they may not do.
pub(super) fn failure(e: Error) -> PageError {
    match e {
        Error::NotFound(_) => PageError::not_found("There is no such team, or you are not in it."),
        Error::Forbidden => PageError::message(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Only the team's admins can do that.",
        ),
        e @ Error::TwoFactorRequired => PageError::message(
            StatusCode::FORBIDDEN,
            "Two-factor authentication required",
            crate::http::problem::ApiError::from(e).detail().to_owned(),
        ),
        other => other.into(),
    }
}

#[derive(Template)]
#[template(path = "web/welcome_team.html")]
struct WelcomeTeamPage {
    layout: Layout,
    errors: Vec<String>,
    domain: String,
    discoverable: Vec<Team>,
}

/// The domain of the person's address: whose teams discovery offers them.
fn domain_of(me: &Current) -> String {
    me.user
        .email
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "web/teams.html")]
struct TeamsPage {
    layout: Layout,
    mine: Vec<TeamWithRole>,
    /// Discovery goes by confirmed addresses only.
    verified: bool,
    domain: String,
    discoverable: Vec<Team>,
}

/// `/teams`: the person's teams with their role, and those of their company domain they can
/// join, with the same join buttons as onboarding.
pub async fn index(State(state): State<AppState>, page: MyPage) -> PageResult {
    let discoverable = teams::discoverable(&state, &page.me)
        .await
        .map_err(failure)?;
    let list = TeamsPage {
        verified: page.me.user.email_verified_at.is_some(),
        domain: domain_of(&page.me),
        layout: page.layout,
        mine: page.teams,
        discoverable,
    };
    render(page.jar, &list)
}

pub async fn welcome(State(state): State<AppState>, page: MyPage) -> PageResult {
    let discoverable = teams::discoverable(&state, &page.me)
        .await
        .map_err(failure)?;
    let domain = domain_of(&page.me);
    let welcome = WelcomeTeamPage {
        layout: page.layout,
        errors: vec![],
        domain,
        discoverable,
    };
    render(page.jar, &welcome)
}

#[derive(Template)]
#[template(path = "web/team_new.html")]
struct NewTeamPage {
    layout: Layout,
    errors: Vec<String>,
    name: String,
    slug: String,
}

pub async fn new_page(page: MyPage) -> PageResult {
    let new = NewTeamPage {
        layout: page.layout,
        errors: vec![],
        name: String::new(),
        slug: String::new(),
    };
    render(page.jar, &new)
}

#[derive(Deserialize)]
pub struct NewTeamForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
}

pub async fn create(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<NewTeamForm>,
) -> PageResult {
    match teams::create(&state, &me, &form.name, &form.slug).await {
        Ok(t) => Ok(Redirect::to(&format!("/teams/{}", t.team.slug)).into_response()),
        Err(e) => {
            let errors = form_messages(e)?;
            let page = MyPage::build(&state, jar, me).await?;
            let new = NewTeamPage {
                layout: page.layout,
                errors,
                name: form.name,
                slug: form.slug,
            };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, page.jar, &new)
        }
    }
}

#[derive(Template)]
#[template(path = "web/team.html")]
struct OverviewPage {
    layout: Layout,
    team: Team,
    role: String,
    member_count: usize,
}

pub async fn overview(
    State(state): State<AppState>,
    page: MyPage,
    Path(slug): Path<String>,
) -> PageResult {
    let (team, role, members) = teams::members(&state, &page.me, &slug)
        .await
        .map_err(failure)?;
    let overview = OverviewPage {
        layout: page.layout,
        team,
        role,
        member_count: members.len(),
    };
    render(page.jar, &overview)
}

pub async fn join(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(slug): Path<String>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> PageResult {
    match teams::join(&state, &me, &slug).await.map_err(failure)? {
        teams::Joined::Member => Ok(Redirect::to(&format!("/teams/{slug}")).into_response()),
        teams::Joined::Requested => Ok(redirect_with(&state, jar, "/", Flash::JoinRequested)),
    }
}

/// Leaves the team once confirmed; first asks, having checked that it can be done (the last
/// admin cannot leave: the members page says so).
pub async fn leave(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(slug): Path<String>,
    SignedInForm { me, form }: SignedInForm<members::ConfirmForm>,
) -> PageResult {
    let done = if form.confirmed() {
        teams::leave(&state, &me, &slug).await
    } else {
        match teams::removable(&state, &me, &slug, &me.user.username).await {
            Ok((team, _)) => {
                let page = MyPage::build(&state, jar, me).await?;
                return page.confirm(
                    format!("Leave {}?", team.name),
                    "You lose access to the team's pages at once. To come back, you need a new invitation or, if the team can be found by your company domain, to join again.",
                    format!("/teams/{}/leave", team.slug),
                    "Leave the team",
                );
            }
            Err(e) => Err(e),
        }
    };
    match done {
        Ok(()) => Ok(redirect_with(&state, jar, "/", Flash::LeftTeam)),
        Err(e @ Error::LastAdmin) => members::refused_here(&state, jar, me, &slug, e).await,
        Err(e) => Err(failure(e)),
    }
}
