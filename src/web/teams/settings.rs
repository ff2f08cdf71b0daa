//! `/teams/{slug}/settings` (admins only) and deleting the team.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::failure;
use crate::error::Error;
use crate::http::extract::Path;
use crate::state::AppState;
use crate::store::Team;
use crate::teams;
use crate::web::guard::SignedInForm;
use crate::web::{
    Flash, Layout, MyPage, PageResult, form_messages, redirect_with, render_status, status_for,
};

#[derive(Template)]
#[template(path = "web/team_settings.html")]
struct SettingsPage {
    layout: Layout,
    errors: Vec<String>,
    team: Team,
}

async fn settings_view(
    state: &AppState,
    page: MyPage,
    slug: &str,
    errors: Vec<String>,
) -> PageResult {
    let team = teams::as_admin(state, &page.me, slug)
        .await
        .map_err(failure)?;
    let status = status_for(&errors, StatusCode::UNPROCESSABLE_ENTITY);
    let settings = SettingsPage {
        layout: page.layout,
        errors,
        team,
    };
    render_status(status, page.jar, &settings)
}

pub async fn settings_page(
    State(state): State<AppState>,
    page: MyPage,
    Path(slug): Path<String>,
) -> PageResult {
    settings_view(&state, page, &slug, vec![]).await
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
) -> PageResult {
    let change = teams::TeamChange {
        name: Some(form.name),
        discovery_enabled: Some(form.discovery.is_some()),
        join_policy: Some(form.join_policy),
        require_2fa: Some(form.require_2fa.is_some()),
    };
    match teams::update(&state, &me, &slug, &change).await {
        Ok(team) => Ok(redirect_with(
            &state,
            jar,
            &format!("/teams/{}/settings", team.slug),
            Flash::TeamSaved,
        )),
        Err(e @ (Error::Invalid(_) | Error::TwoFactorRequired)) => {
            let errors = form_messages(e)?;
            let page = MyPage::build(&state, jar, me).await?;
            settings_view(&state, page, &slug, errors).await
        }
        Err(e) => Err(failure(e)),
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
) -> PageResult {
    teams::delete(&state, &me, &slug, &form.confirm_slug)
        .await
        .map_err(failure)?;
    Ok(redirect_with(&state, jar, "/", Flash::TeamDeleted))
}
