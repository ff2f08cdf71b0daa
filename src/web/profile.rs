//! `/settings/profile` (name, role, username) and `/u/{username}`, the profile collaborators see.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::guard::SignedInForm;
use super::signup::role_options;
use super::{
    Flash, Layout, MyPage, Page, PageError, PageResult, form_messages, redirect_with, render,
    render_status, status_for,
};
use crate::accounts::profile::{self, PublicProfile};
use crate::error::Error;
use crate::http::extract::Path;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/profile.html")]
struct ProfilePage {
    layout: Layout,
    errors: Vec<String>,
    name: String,
    role: String,
    username: String,
    roles: Vec<(&'static str, &'static str)>,
}

/// The page for `page`, showing `draft` (the submitted form) and its errors after a failure.
fn profile_page(page: MyPage, errors: Vec<String>, draft: Option<ProfileForm>) -> PageResult {
    let u = &page.me.user;
    let draft = draft.unwrap_or_else(|| ProfileForm {
        name: u.name.clone(),
        role: u.role.clone(),
        username: u.username.clone(),
    });
    let profile = ProfilePage {
        layout: page.layout,
        name: draft.name,
        role: draft.role,
        username: draft.username,
        roles: role_options(),
        errors,
    };
    let status = status_for(&profile.errors, StatusCode::UNPROCESSABLE_ENTITY);
    render_status(status, page.jar, &profile)
}

pub async fn settings_page(page: MyPage) -> PageResult {
    profile_page(page, vec![], None)
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    username: String,
}

pub async fn save(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<ProfileForm>,
) -> PageResult {
    let change = profile::ProfileChange {
        name: Some(form.name.clone()),
        role: Some(form.role.clone()),
        username: Some(form.username.clone()),
    };
    match profile::update(&state, &me, &change).await {
        Ok(_) => Ok(redirect_with(
            &state,
            jar,
            "/settings/profile",
            Flash::ProfileSaved,
        )),
        Err(e) => {
            let errors = form_messages(e)?;
            profile_page(MyPage::build(&state, jar, me).await?, errors, Some(form))
        }
    }
}

#[derive(Template)]
#[template(path = "web/user.html")]
struct UserPage {
    layout: Layout,
    p: PublicProfile,
    role_label: &'static str,
}

pub async fn user_page(
    State(state): State<AppState>,
    page: Page,
    Path(username): Path<String>,
) -> PageResult {
    match profile::public(&state, &username).await {
        Ok(p) => {
            let role_label = role_options()
                .into_iter()
                .find(|(v, _)| *v == p.role)
                .map_or("", |(_, l)| l);
            render(
                page.jar,
                &UserPage {
                    layout: page.layout,
                    p,
                    role_label,
                },
            )
        }
        Err(Error::NotFound(_)) => Err(PageError::message(
            StatusCode::NOT_FOUND,
            "No such user",
            "Nobody uses that username.",
        )),
        Err(e) => Err(e.into()),
    }
}
