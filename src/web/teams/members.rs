//! `/teams/{slug}/members`: the roster, and for admins roles, removals (after a confirmation
//! step), pending invitations and join requests. A team rule that refuses an action (the last
//! admin) is said on this page, beside the action.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use uuid::Uuid;

use super::failure;
use crate::auth::Current;
use crate::error::Error;
use crate::http::extract::Path;
use crate::http::problem::ApiError;
use crate::state::AppState;
use crate::store::{Invitation, Member, Team};
use crate::teams;
use crate::web::dates::When;
use crate::web::guard::{NoFields, SignedInForm};
use crate::web::{Flash, Layout, MyPage, PageResult, redirect_with, render_status};

#[derive(Template)]
#[template(path = "web/team_members.html")]
struct MembersPage {
    layout: Layout,
    errors: Vec<String>,
    team: Team,
    admin: bool,
    members: Vec<Member>,
    invitations: Vec<InvitationRow>,
    requests: Vec<Member>,
    roles: &'static [&'static str],
}

struct InvitationRow {
    id: Uuid,
    email: String,
    role: String,
    expires: When,
}

impl InvitationRow {
    fn new(i: Invitation, now: i64) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role,
            expires: When::at(i.expires_at, now),
        }
    }
}

pub async fn members_page(
    State(state): State<AppState>,
    page: MyPage,
    Path(slug): Path<String>,
) -> PageResult {
    members_view(&state, page, &slug, vec![], StatusCode::OK).await
}

async fn members_view(
    state: &AppState,
    page: MyPage,
    slug: &str,
    errors: Vec<String>,
    status: StatusCode,
) -> PageResult {
    let roster = teams::roster(state, &page.me, slug)
        .await
        .map_err(failure)?;
    let members = MembersPage {
        layout: page.layout,
        errors,
        admin: roster.role == "admin",
        team: roster.team,
        members: roster.members,
        invitations: roster
            .invitations
            .into_iter()
            .map(|i| InvitationRow::new(i, state.clock.now()))
            .collect(),
        requests: roster.requests,
        roles: teams::ROLES,
    };
    render_status(status, page.jar, &members)
}

/// The members page again, saying why `e` (a team rule: the last admin) refused the action,
/// with the API's status for it.
pub(super) async fn refused_here(
    state: &AppState,
    jar: CookieJar,
    me: Current,
    slug: &str,
    e: Error,
) -> PageResult {
    let refused = ApiError::from(e);
    let status = refused.status();
    let page = MyPage::build(state, jar, me).await?;
    members_view(state, page, slug, refused.messages(), status).await
}

/// A form that goes ahead only once confirmed (`confirmed=yes`, from the confirmation step).
#[derive(Deserialize)]
pub struct ConfirmForm {
    confirmed: Option<String>,
}

impl ConfirmForm {
    pub(super) fn confirmed(&self) -> bool {
        self.confirmed.as_deref() == Some("yes")
    }
}

/// Back to the members page with "Saved."
fn saved(state: &AppState, jar: CookieJar, slug: &str) -> PageResult {
    let to = format!("/teams/{slug}/members");
    Ok(redirect_with(state, jar, &to, Flash::TeamSaved))
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    jar: CookieJar,
    Path((slug, username)): Path<(String, String)>,
    SignedInForm { me, form }: SignedInForm<RoleForm>,
) -> PageResult {
    match teams::set_role(&state, &me, &slug, &username, &form.role).await {
        Ok(()) => saved(&state, jar, &slug),
        Err(e @ Error::LastAdmin) => refused_here(&state, jar, me, &slug, e).await,
        Err(e) => Err(failure(e)),
    }
}

/// Removes a member once confirmed; first asks, having checked that it can be done.
pub async fn remove_member(
    State(state): State<AppState>,
    jar: CookieJar,
    Path((slug, username)): Path<(String, String)>,
    SignedInForm { me, form }: SignedInForm<ConfirmForm>,
) -> PageResult {
    let done = if form.confirmed() {
        teams::remove(&state, &me, &slug, &username).await
    } else {
        match teams::removable(&state, &me, &slug, &username).await {
            Ok((team, member)) => {
                let page = MyPage::build(&state, jar, me).await?;
                return page.confirm(
                    format!("Remove {} from {}?", member.username, team.name),
                    format!(
                        "{} loses access to the team's pages at once. To come back, they need a new invitation.",
                        member.username
                    ),
                    format!("/teams/{}/members/{}/remove", team.slug, member.username),
                    format!("Remove {}", member.username),
                );
            }
            Err(e) => Err(e),
        }
    };
    match done {
        Ok(()) => saved(&state, jar, &slug),
        Err(e @ Error::LastAdmin) => refused_here(&state, jar, me, &slug, e).await,
        Err(e) => Err(failure(e)),
    }
}

/// `/teams/{slug}/requests/{username}/{approve|decline}`.
pub async fn decide(
    State(state): State<AppState>,
    jar: CookieJar,
    Path((slug, username, decision)): Path<(String, String, String)>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> PageResult {
    let approve = match decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return Err(failure(Error::NotFound("page"))),
    };
    teams::decide_request(&state, &me, &slug, &username, approve)
        .await
        .map_err(failure)?;
    saved(&state, jar, &slug)
}
