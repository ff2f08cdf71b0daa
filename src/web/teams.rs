//! Team pages: onboarding's "Create or join a team", the team's overview, members and
//! settings, and invitation links.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use uuid::Uuid;

use super::guard::{NoFields, SignedIn, SignedInForm};
use super::{
    Flash, FormError, Layout, form_errors, layout, message, redirect_with, render, render_status,
};
use crate::auth::Current;
use crate::error::Error;
use crate::http::extract::{Auth, Path};
use crate::state::AppState;
use crate::store::{Invitation, Member, Team};
use crate::teams::{self, invitations};

/// One answer for every team page's failures: a 404 page for teams the person cannot see, the
/// message for what they may not do.
async fn failure(state: &AppState, jar: CookieJar, me: &Current, e: Error) -> Response {
    let message = |jar, status, heading, text: String| {
        super::message_as(state, jar, Some(me), status, heading, text)
    };
    match e {
        Error::NotFound(_) => {
            message(
                jar,
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such team, or you are not in it.".to_owned(),
            )
            .await
        }
        Error::Forbidden => {
            message(
                jar,
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Only the team's admins can do that.".to_owned(),
            )
            .await
        }
        e @ Error::TwoFactorRequired => {
            message(
                jar,
                StatusCode::FORBIDDEN,
                "Two-factor authentication required",
                e.to_string(),
            )
            .await
        }
        other => match form_errors(state, jar, other).await {
            FormError::Show(jar, errors) => {
                message(
                    jar,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "That did not work",
                    errors.join(" "),
                )
                .await
            }
            FormError::Page(page) => page,
        },
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

pub async fn welcome(
    State(state): State<AppState>,
    SignedIn(me): SignedIn,
    jar: CookieJar,
) -> Response {
    let discoverable = match teams::discoverable(&state, &me).await {
        Ok(d) => d,
        Err(e) => return failure(&state, jar, &me, e).await,
    };
    let domain = me
        .user
        .email
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    let (jar, layout) = layout(&state, jar, Some(&me)).await;
    render(
        jar,
        &WelcomeTeamPage {
            layout,
            errors: vec![],
            domain,
            discoverable,
        },
    )
}

#[derive(Template)]
#[template(path = "web/team_new.html")]
struct NewTeamPage {
    layout: Layout,
    errors: Vec<String>,
    name: String,
    slug: String,
}

pub async fn new_page(
    State(state): State<AppState>,
    SignedIn(me): SignedIn,
    jar: CookieJar,
) -> Response {
    let (jar, layout) = layout(&state, jar, Some(&me)).await;
    render(
        jar,
        &NewTeamPage {
            layout,
            errors: vec![],
            name: String::new(),
            slug: String::new(),
        },
    )
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
) -> Response {
    match teams::create(&state, &me, &form.name, &form.slug).await {
        Ok(t) => Redirect::to(&format!("/teams/{}", t.team.slug)).into_response(),
        Err(e) => match form_errors(&state, jar, e).await {
            FormError::Show(jar, errors) => {
                let (jar, layout) = layout(&state, jar, Some(&me)).await;
                let page = NewTeamPage {
                    layout,
                    errors,
                    name: form.name,
                    slug: form.slug,
                };
                render_status(StatusCode::UNPROCESSABLE_ENTITY, jar, &page)
            }
            FormError::Page(page) => page,
        },
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
    SignedIn(me): SignedIn,
    jar: CookieJar,
    Path(slug): Path<String>,
) -> Response {
    match teams::members(&state, &me, &slug).await {
        Ok((team, role, members)) => {
            let (jar, layout) = layout(&state, jar, Some(&me)).await;
            render(
                jar,
                &OverviewPage {
                    layout,
                    team,
                    role,
                    member_count: members.len(),
                },
            )
        }
        Err(e) => failure(&state, jar, &me, e).await,
    }
}

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
    SignedIn(me): SignedIn,
    jar: CookieJar,
    Path(slug): Path<String>,
) -> Response {
    let loaded = async {
        let (team, role, members) = teams::members(&state, &me, &slug).await?;
        let admin = role == "admin";
        let (invitations, requests) = if admin {
            (
                invitations::pending(&state, &me, &slug).await?,
                teams::join_requests(&state, &me, &slug).await?,
            )
        } else {
            (vec![], vec![])
        };
        Ok::<_, Error>((team, admin, members, invitations, requests))
    };
    match loaded.await {
        Ok((team, admin, members, invitations, requests)) => {
            let (jar, layout) = layout(&state, jar, Some(&me)).await;
            let invitations = invitations.into_iter().map(InvitationRow::from).collect();
            let page = MembersPage {
                layout,
                errors: vec![],
                team,
                admin,
                members,
                invitations,
                requests,
                roles: teams::ROLES,
            };
            render(jar, &page)
        }
        Err(e) => failure(&state, jar, &me, e).await,
    }
}

#[derive(Template)]
#[template(path = "web/team_settings.html")]
struct SettingsPage {
    layout: Layout,
    errors: Vec<String>,
    team: Team,
}

async fn settings_view(
    state: &AppState,
    jar: CookieJar,
    me: &Current,
    slug: &str,
    errors: Vec<String>,
) -> Response {
    match teams::as_admin(state, me, slug).await {
        Ok(team) => {
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let (jar, layout) = layout(state, jar, Some(me)).await;
            render_status(
                status,
                jar,
                &SettingsPage {
                    layout,
                    errors,
                    team,
                },
            )
        }
        Err(e) => failure(state, jar, me, e).await,
    }
}

pub async fn settings_page(
    State(state): State<AppState>,
    SignedIn(me): SignedIn,
    jar: CookieJar,
    Path(slug): Path<String>,
) -> Response {
    settings_view(&state, jar, &me, &slug, vec![]).await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    name: String,
    discovery: Option<String>,
    #[serde(default)]
    join_policy: String,
    require_2fa: Option<String>,
}

pub async fn save_settings(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(slug): Path<String>,
    SignedInForm { me, form }: SignedInForm<SettingsForm>,
) -> Response {
    let change = teams::TeamChange {
        name: Some(form.name),
        discovery_enabled: Some(form.discovery.is_some()),
        join_policy: Some(form.join_policy),
        require_2fa: Some(form.require_2fa.is_some()),
    };
    match teams::update(&state, &me, &slug, &change).await {
        Ok(team) => redirect_with(
            &state,
            jar,
            &format!("/teams/{}/settings", team.slug),
            Flash::TeamSaved,
        ),
        Err(e @ (Error::Invalid(_) | Error::TwoFactorRequired)) => {
            match form_errors(&state, jar, e).await {
                FormError::Show(jar, errors) => {
                    settings_view(&state, jar, &me, &slug, errors).await
                }
                FormError::Page(page) => page,
            }
        }
        Err(e) => failure(&state, jar, &me, e).await,
    }
}

#[derive(Deserialize)]
pub struct DeleteTeamForm {
    #[serde(default)]
    confirm_slug: String,
}

pub async fn delete(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(slug): Path<String>,
    SignedInForm { me, form }: SignedInForm<DeleteTeamForm>,
) -> Response {
    match teams::delete(&state, &me, &slug, &form.confirm_slug).await {
        Ok(()) => redirect_with(&state, jar, "/", Flash::TeamDeleted),
        Err(e) => failure(&state, jar, &me, e).await,
    }
}

pub async fn join(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(slug): Path<String>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> Response {
    match teams::join(&state, &me, &slug).await {
        Ok(teams::Joined::Member) => Redirect::to(&format!("/teams/{slug}")).into_response(),
        Ok(teams::Joined::Requested) => redirect_with(&state, jar, "/", Flash::JoinRequested),
        Err(e) => failure(&state, jar, &me, e).await,
    }
}

pub async fn leave(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(slug): Path<String>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> Response {
    match teams::leave(&state, &me, &slug).await {
        Ok(()) => redirect_with(&state, jar, "/", Flash::LeftTeam),
        Err(e) => failure(&state, jar, &me, e).await,
    }
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
) -> Response {
    match teams::set_role(&state, &me, &slug, &username, &form.role).await {
        Ok(()) => redirect_with(
            &state,
            jar,
            &format!("/teams/{slug}/members"),
            Flash::TeamSaved,
        ),
        Err(e) => failure(&state, jar, &me, e).await,
    }
}

pub async fn remove_member(
    State(state): State<AppState>,
    jar: CookieJar,
    Path((slug, username)): Path<(String, String)>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> Response {
    match teams::remove(&state, &me, &slug, &username).await {
        Ok(()) => redirect_with(
            &state,
            jar,
            &format!("/teams/{slug}/members"),
            Flash::TeamSaved,
        ),
        Err(e) => failure(&state, jar, &me, e).await,
    }
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub async fn invite(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(slug): Path<String>,
    SignedInForm { me, form }: SignedInForm<InviteForm>,
) -> Response {
    match invitations::invite(&state, &me, &slug, &form.email, &form.role).await {
        Ok(_) => redirect_with(
            &state,
            jar,
            &format!("/teams/{slug}/members"),
            Flash::InvitationSent,
        ),
        Err(e) => failure(&state, jar, &me, e).await,
    }
}

pub async fn resend(
    State(state): State<AppState>,
    jar: CookieJar,
    Path((slug, id)): Path<(String, Uuid)>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> Response {
    match invitations::resend(&state, &me, &slug, id).await {
        Ok(_) => redirect_with(
            &state,
            jar,
            &format!("/teams/{slug}/members"),
            Flash::InvitationSent,
        ),
        Err(e) => failure(&state, jar, &me, e).await,
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    jar: CookieJar,
    Path((slug, id)): Path<(String, Uuid)>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> Response {
    match invitations::revoke(&state, &me, &slug, id).await {
        Ok(()) => redirect_with(
            &state,
            jar,
            &format!("/teams/{slug}/members"),
            Flash::TeamSaved,
        ),
        Err(e) => failure(&state, jar, &me, e).await,
    }
}

pub async fn decide(
    State(state): State<AppState>,
    jar: CookieJar,
    Path((slug, username, decision)): Path<(String, String, String)>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> Response {
    let approve = match decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return failure(&state, jar, &me, Error::NotFound("page")).await,
    };
    match teams::decide_request(&state, &me, &slug, &username, approve).await {
        Ok(()) => redirect_with(
            &state,
            jar,
            &format!("/teams/{slug}/members"),
            Flash::TeamSaved,
        ),
        Err(e) => failure(&state, jar, &me, e).await,
    }
}

#[derive(Template)]
#[template(path = "web/invitation.html")]
struct InvitationPage {
    layout: Layout,
    errors: Vec<String>,
    team_name: String,
    role: String,
    email: String,
    token: String,
    signed_in: bool,
}

async fn invitation_view(
    state: &AppState,
    jar: CookieJar,
    me: Option<&Current>,
    token: String,
    errors: Vec<String>,
) -> Response {
    match invitations::lookup(state, &token).await {
        Ok((invitation, team)) => {
            let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::FORBIDDEN };
            let (jar, layout) = layout(state, jar, me).await;
            let page = InvitationPage {
                layout,
                errors,
                team_name: team.name,
                role: invitation.role,
                email: invitation.email,
                token,
                signed_in: me.is_some(),
            };
            render_status(status, jar, &page)
        }
        Err(_) => message(state, jar, StatusCode::BAD_REQUEST, "This invitation cannot be used", "It is invalid, has expired, was revoked or was already accepted. Ask the team's admin for a new one.").await,
    }
}

pub async fn invitation_page(
    State(state): State<AppState>,
    auth: Option<Auth>,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Response {
    let me = auth.map(|Auth(me)| me);
    invitation_view(&state, jar, me.as_ref(), token, vec![]).await
}

pub async fn accept(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(token): Path<String>,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> Response {
    match invitations::accept(&state, &me, &token).await {
        Ok(team) => Redirect::to(&format!("/teams/{}", team.slug)).into_response(),
        Err(e @ (Error::InvitationMismatch | Error::EmailUnverified | Error::AlreadyMember)) => {
            let errors = vec![crate::http::problem::ApiError::from(e).detail().to_owned()];
            invitation_view(&state, jar, Some(&me), token, errors).await
        }
        Err(e) => failure(&state, jar, &me, e).await,
    }
}
