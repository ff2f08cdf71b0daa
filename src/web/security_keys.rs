//! Security key pages: adding one (`/settings/account/security-keys/…`), removing one, and the
//! options the sign-in page hands to `navigator.credentials.get`. The browser part is in
//! `static/app.js`; without JavaScript the pages say a key cannot be used.

use askama::Template;
use axum::extract::{Path, State};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use uuid::Uuid;

use super::account_settings::show_error;
use super::guard::SignedInForm;
use super::{Flash, Layout, MyPage, PageError, PageResult, redirect_with, render};
use crate::error::Error;
use crate::http::extract::Client;
use crate::mfa::security_keys;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/security_key_add.html")]
struct AddPage {
    layout: Layout,
    errors: Vec<String>,
    name: String,
    options: String,
}

#[derive(Deserialize)]
pub struct BeginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

pub async fn begin(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<BeginForm>,
) -> PageResult {
    let started = security_keys::begin_registration(&state, &me, &form.password, &form.name)
        .await
        .and_then(security_keys::public_key_options);
    let options = match started {
        Ok(options) => options.to_string(),
        Err(e) => return show_error(&state, jar, me, e).await,
    };
    let page = MyPage::build(&state, jar, me).await?;
    let add = AddPage {
        layout: page.layout,
        errors: vec![],
        name: form.name.trim().to_owned(),
        options,
    };
    render(page.jar, &add)
}

#[derive(Deserialize)]
pub struct FinishForm {
    #[serde(default)]
    credential: String,
}

pub async fn finish(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<FinishForm>,
) -> PageResult {
    let added = match security_keys::parse_answer("credential", &form.credential) {
        Ok(credential) => {
            security_keys::finish_registration(&state, &me, &credential, &client).await
        }
        Err(e) => Err(e),
    };
    match added {
        Ok(_) => Ok(redirect_with(
            &state,
            jar,
            "/settings/account",
            Flash::SecurityKeyAdded,
        )),
        Err(e) => show_error(&state, jar, me, e).await,
    }
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    password: String,
}

pub async fn remove(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    Path(id): Path<String>,
    SignedInForm { me, form }: SignedInForm<RemoveForm>,
) -> PageResult {
    // Someone else's key and no key at all look the same: 404.
    let removed = match Uuid::parse_str(&id) {
        Ok(id) => security_keys::remove(&state, &me, id, &form.password, &client).await,
        Err(_) => Err(Error::NotFound("security key")),
    };
    match removed {
        Ok(()) => Ok(redirect_with(
            &state,
            jar,
            "/settings/account",
            Flash::SecurityKeyRemoved,
        )),
        Err(Error::NotFound(_)) => Err(PageError::not_found(
            "There is no such security key on your account.",
        )),
        Err(e) => show_error(&state, jar, me, e).await,
    }
}
