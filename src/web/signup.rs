//! `/signup`, and onboarding's first step `/welcome` (name and role).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::guard::{CheckedForm, SignedInForm};
use super::{
    Flash, Layout, MyPage, Page, PageResult, form_messages, redirect_with, render, render_status,
};
use crate::accounts::{profile, signup};
use crate::http::extract::{Auth, Client};
use crate::state::AppState;
use crate::store::User;

#[derive(Template)]
#[template(path = "web/signup.html")]
struct SignupPage {
    layout: Layout,
    errors: Vec<String>,
    email: String,
    username: String,
    invitation: String,
}

/// `/signup?invitation=…&email=…`, as an invitation page links to it.
#[derive(Deserialize)]
pub struct SignupQuery {
    invitation: Option<String>,
    email: Option<String>,
}

pub async fn signup_page(page: Page, Query(q): Query<SignupQuery>) -> PageResult {
    if page.me.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let signup = SignupPage {
        layout: page.layout,
        errors: vec![],
        email: q.email.unwrap_or_default(),
        username: String::new(),
        invitation: q.invitation.unwrap_or_default(),
    };
    render(page.jar, &signup)
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    accept_terms: Option<String>,
    name: Option<String>,
    invitation: Option<String>,
}

pub async fn signup_submit(
    State(state): State<AppState>,
    Client(client): Client,
    auth: Option<Auth>,
    jar: CookieJar,
    CheckedForm(form): CheckedForm<SignupForm>,
) -> PageResult {
    let input = signup::SignupInput {
        email: form.email.clone(),
        username: form.username.clone(),
        password: form.password,
        accept_terms: form.accept_terms.is_some(),
        name: form.name,
        invitation: form.invitation.clone().filter(|t| !t.is_empty()),
    };
    match signup::signup(&state, &input, "web", &client).await {
        Ok(done) => {
            let jar = super::switcher::activate(&state, jar, &done.session, done.user.id).await?;
            Ok((jar, Redirect::to("/welcome")).into_response())
        }
        Err(e) => {
            let errors = form_messages(e)?;
            let page = Page::build(&state, jar, auth.map(|Auth(me)| me)).await?;
            let signup = SignupPage {
                layout: page.layout,
                errors,
                email: form.email,
                username: form.username,
                invitation: form.invitation.unwrap_or_default(),
            };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, page.jar, &signup)
        }
    }
}

#[derive(Template)]
#[template(path = "web/welcome.html")]
struct WelcomePage {
    layout: Layout,
    errors: Vec<String>,
    username: String,
    name: String,
    role: String,
    roles: Vec<(&'static str, &'static str)>,
    /// Where "Skip for now" leads.
    next: &'static str,
}

/// The roles a person can pick, with their labels.
pub(super) fn role_options() -> Vec<(&'static str, &'static str)> {
    profile::ROLES
        .iter()
        .map(|r| {
            let label = match *r {
                "developer" => "Developer",
                "qa_engineer" => "QA engineer",
                "devops" => "DevOps engineer",
                "architect" => "Architect",
                "product_manager" => "Product manager",
                "technical_writer" => "Technical writer",
                "student" => "Student",
                _ => "Other",
            };
            (*r, label)
        })
        .collect()
}

/// Whether the name and role step is still to do: nothing of it is filled in.
pub(super) fn onboarding_unfinished(user: &User) -> bool {
    user.name.is_empty() && user.role.is_empty()
}

/// After the name and role step: the team step once the address is confirmed (the mail may
/// come first), else the start page, whose banner asks for the confirmation.
fn after_welcome(user: &User) -> &'static str {
    if user.email_verified_at.is_some() {
        "/welcome/team"
    } else {
        "/"
    }
}

pub async fn welcome_page(page: MyPage) -> PageResult {
    let welcome = WelcomePage {
        next: after_welcome(&page.me.user),
        errors: vec![],
        username: page.me.user.username.clone(),
        name: page.me.user.name.clone(),
        role: page.me.user.role.clone(),
        roles: role_options(),
        layout: page.layout,
    };
    render(page.jar, &welcome)
}

#[derive(Deserialize)]
pub struct WelcomeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

pub async fn welcome_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedInForm { me, form }: SignedInForm<WelcomeForm>,
) -> PageResult {
    let change = profile::ProfileChange {
        name: Some(form.name.clone()),
        role: Some(form.role.clone()),
        username: None,
    };
    match profile::update(&state, &me, &change).await {
        Ok(_) => Ok(redirect_with(
            &state,
            jar,
            after_welcome(&me.user),
            Flash::ProfileSaved,
        )),
        Err(e) => {
            let errors = form_messages(e)?;
            let page = MyPage::build(&state, jar, me).await?;
            let welcome = WelcomePage {
                next: after_welcome(&page.me.user),
                layout: page.layout,
                errors,
                username: page.me.user.username.clone(),
                name: form.name,
                role: form.role,
                roles: role_options(),
            };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, page.jar, &welcome)
        }
    }
}
