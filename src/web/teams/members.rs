//! `/teams/{slug}/members`: the roster, and for admins roles, removals, pending invitations
//! and join requests.

use askama::Template;
use axum::extract::State;
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use uuid::Uuid;

use super::failure;
use crate::error::Error;
use crate::http::extract::Path;
use crate::state::AppState;
use crate::store::{Invitation, Member, Team};
use crate::teams;
use crate::web::guard::{NoFields, SignedInForm};
use crate::web::{Flash, Layout, MyPage, PageResult, redirect_with, render};

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
    expires_at: String,
}

impl From<Invitation> for InvitationRow {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role,
            expires_at: crate::clock::rfc3339(i.expires_at),
        }
    }
}

pub async fn members_page(
    State(state): State<AppState>,
    page: MyPage,
    Path(slug): Path<String>,
) -> PageResult {
    let roster = teams::roster(&state, &page.me, &slug)
        .await
        .map_err(failure)?;
    let members = MembersPage {
        layout: page.layout,
        errors: vec![],
        admin: roster.role == "admin",
        team: roster.team,
        members: roster.members,
        invitations: roster.invitations.into_iter().map(Into::into).collect(),
        requests: roster.requests,
        roles: teams::ROLES,
    };
    render(page.jar, &members)
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
    teams::set_role(&state, &me, &slug, &username, &form.role)
        .await
        .map_err(failure)?;
    saved(&state, jar, &slug)
}

pub async fn remove_member(
    State(state): State<AppState>,
    jar: CookieJar,
    Path((slug, username)): Path<(String, String)>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> PageResult {
    teams::remove(&state, &me, &slug, &username)
        .await
        .map_err(failure)?;
    saved(&state, jar, &slug)
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
