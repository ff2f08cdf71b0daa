//! `/settings/profile` (name, role, username) and `/u/{username}`, the profile collaborators see.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::account::role_options;
use super::guard::{SignedIn, SignedInForm};
use super::{Flash, FormError, Layout, form_errors, layout, redirect_with, render, render_status};
use crate::accounts::profile::{self, PublicProfile};
use crate::auth::Current;
use crate::error::Error;
use crate::http::extract::{Auth, Path};
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

async fn profile_page(
    state: &AppState,
    jar: CookieJar,
    me: &Current,
    errors: Vec<String>,
    draft: Option<ProfileForm>,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let draft = draft.unwrap_or_else(|| ProfileForm {
        name: me.user.name.clone(),
        role: me.user.role.clone(),
        username: me.user.username.clone(),
    });
    let (jar, layout) = layout(state, jar, Some(me)).await;
    let page = ProfilePage {
        layout,
        errors,
        name: draft.name,
        role: draft.role,
        username: draft.username,
        roles: role_options(),
    };
    render_status(status, jar, &page)
}

pub async fn settings_page(
    State(state): State<AppState>,
    SignedIn(me): SignedIn,
    jar: CookieJar,
) -> Response {
    profile_page(&state, jar, &me, vec![], None).await
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
) -> Response {
    let change = profile::ProfileChange {
        name: Some(form.name.clone()),
        role: Some(form.role.clone()),
        username: Some(form.username.clone()),
    };
    match profile::update(&state, &me, &change).await {
        Ok(_) => redirect_with(&state, jar, "/settings/profile", Flash::ProfileSaved),
        Err(e) => match form_errors(&state, jar, e).await {
            FormError::Show(jar, errors) => {
                profile_page(&state, jar, &me, errors, Some(form)).await
            }
            FormError::Page(page) => page,
        },
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
    auth: Option<Auth>,
    jar: CookieJar,
    Path(username): Path<String>,
) -> Response {
    match profile::public(&state, &username).await {
        Ok(p) => {
            let role_label = role_options()
                .into_iter()
                .find(|(v, _)| *v == p.role)
                .map_or("", |(_, l)| l);
            let me = auth.map(|Auth(me)| me);
            let (jar, layout) = layout(&state, jar, me.as_ref()).await;
            render(
                jar,
                &UserPage {
                    layout,
                    p,
                    role_label,
                },
            )
        }
        Err(Error::NotFound(_)) => {
            super::message(
                &state,
                jar,
                StatusCode::NOT_FOUND,
                "No such user",
                "Nobody uses that username.",
            )
            .await
        }
        Err(e) => crate::http::problem::ApiError::from(e).into_response(),
    }
}
