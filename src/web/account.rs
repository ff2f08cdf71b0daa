//! Pages for signing up, signing in and out, onboarding and confirming an email address.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::guard::{CheckedForm, NoFields, SignedIn, SignedInForm};
use super::{Flash, FormError, Layout, form_errors, layout, message, redirect_with, render};
use crate::accounts::{Purpose, profile, signup, verify};
use crate::auth::login;
use crate::error::Error;
use crate::http::extract::{Auth, Client};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/home.html")]
struct HomePage {
    layout: Layout,
    display_name: String,
    username: String,
    email: String,
    verified: bool,
    created_at: String,
}

pub async fn home(
    State(state): State<AppState>,
    SignedIn(me): SignedIn,
    jar: CookieJar,
) -> Response {
    let (jar, layout) = layout(&state, jar, Some(&me)).await;
    let u = &me.user;
    render(
        jar,
        &HomePage {
            layout,
            display_name: if u.name.is_empty() {
                u.username.clone()
            } else {
                u.name.clone()
            },
            username: u.username.clone(),
            email: u.email.clone(),
            verified: u.email_verified_at.is_some(),
            created_at: crate::clock::rfc3339(u.created_at),
        },
    )
}

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

/// `/login?next=/path`: where to go after signing in. Only paths on this site are followed.
#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    /// `/login?add=1`: sign in to another account without signing out.
    add: Option<String>,
}

pub fn safe_next(next: Option<&str>) -> &str {
    // Browsers drop tabs and newlines and read `\` as `/`, so `/\t/evil.example` would leave
    // the site: only plain visible characters, one leading slash.
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n
        }
        _ => "/",
    }
}

pub async fn signup_page(
    State(state): State<AppState>,
    auth: Option<Auth>,
    jar: CookieJar,
    Query(q): Query<SignupQuery>,
) -> Response {
    if auth.is_some() {
        return Redirect::to("/").into_response();
    }
    let (jar, layout) = layout(&state, jar, None).await;
    render(
        jar,
        &SignupPage {
            layout,
            errors: vec![],
            email: q.email.unwrap_or_default(),
            username: String::new(),
            invitation: q.invitation.unwrap_or_default(),
        },
    )
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
    jar: CookieJar,
    CheckedForm(form): CheckedForm<SignupForm>,
) -> Response {
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
            let jar = super::accounts::activate(&state, jar, &done.session, done.user.id).await;
            (jar, Redirect::to("/welcome")).into_response()
        }
        Err(e) => match form_errors(&state, jar, e).await {
            FormError::Show(jar, errors) => {
                let (jar, layout) = layout(&state, jar, None).await;
                let page = SignupPage {
                    layout,
                    errors,
                    email: form.email,
                    username: form.username,
                    invitation: form.invitation.unwrap_or_default(),
                };
                super::render_status(StatusCode::UNPROCESSABLE_ENTITY, jar, &page)
            }
            FormError::Page(page) => page,
        },
    }
}

#[derive(Template)]
#[template(path = "web/login.html")]
struct LoginPage {
    layout: Layout,
    errors: Vec<String>,
    login: String,
    remember: bool,
    next: String,
    /// "Add another account" while already signed in.
    adding: bool,
}

pub async fn login_page(
    State(state): State<AppState>,
    auth: Option<Auth>,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref()).to_owned();
    let adding = q.add.is_some();
    let me = auth.map(|Auth(me)| me);
    if me.is_some() && !adding {
        return Redirect::to(&next).into_response();
    }
    if adding && !super::accounts::room_for_another(&state, &jar).await {
        return too_many_accounts(&state, jar).await;
    }
    let (jar, layout) = layout(&state, jar, me.as_ref()).await;
    render(
        jar,
        &LoginPage {
            layout,
            errors: vec![],
            login: String::new(),
            remember: false,
            next,
            adding,
        },
    )
}

async fn too_many_accounts(state: &AppState, jar: CookieJar) -> Response {
    message(
        state,
        jar,
        StatusCode::CONFLICT,
        "Five accounts are signed in",
        "Sign out of one of them before adding another.",
    )
    .await
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    remember: Option<String>,
    next: Option<String>,
}

pub async fn login_submit(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    CheckedForm(form): CheckedForm<LoginForm>,
) -> Response {
    let remember = form.remember.is_some();
    if !super::accounts::room_for_another(&state, &jar).await {
        return too_many_accounts(&state, jar).await;
    }
    match login::login(
        &state,
        &form.login,
        &form.password,
        remember,
        "web",
        &client,
    )
    .await
    {
        Ok(login::Outcome::SignedIn(done)) => {
            let jar = super::accounts::activate(&state, jar, &done.session, done.user.id).await;
            (jar, Redirect::to(safe_next(form.next.as_deref()))).into_response()
        }
        Ok(login::Outcome::MfaRequired { mfa_token, .. }) => {
            let next = safe_next(form.next.as_deref()).to_owned();
            let jar = jar
                .add(super::mfa::pending_cookie(&state.settings, mfa_token))
                .add(super::mfa::next_cookie(&state.settings, next));
            (jar, Redirect::to("/login/2fa")).into_response()
        }
        Err(e) => {
            let status = match &e {
                Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            match form_errors(&state, jar, e).await {
                FormError::Show(jar, errors) => {
                    let (jar, layout) = layout(&state, jar, None).await;
                    let page = LoginPage {
                        layout,
                        errors,
                        login: form.login,
                        remember,
                        next: safe_next(form.next.as_deref()).to_owned(),
                        adding: false,
                    };
                    super::render_status(status, jar, &page)
                }
                FormError::Page(page) => page,
            }
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    auth: Option<Auth>,
    jar: CookieJar,
    CheckedForm(_): CheckedForm<NoFields>,
) -> Response {
    let me = auth.map(|Auth(me)| me);
    super::accounts::sign_out(&state, jar, me.as_ref()).await
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
}

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

pub async fn welcome_page(
    State(state): State<AppState>,
    SignedIn(me): SignedIn,
    jar: CookieJar,
) -> Response {
    let (jar, layout) = layout(&state, jar, Some(&me)).await;
    let page = WelcomePage {
        layout,
        errors: vec![],
        username: me.user.username.clone(),
        name: me.user.name.clone(),
        role: me.user.role.clone(),
        roles: role_options(),
    };
    render(jar, &page)
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
) -> Response {
    let change = profile::ProfileChange {
        name: Some(form.name.clone()),
        role: Some(form.role.clone()),
        username: None,
    };
    match profile::update(&state, &me, &change).await {
        Ok(_) => redirect_with(&state, jar, "/", Flash::ProfileSaved),
        Err(e) => match form_errors(&state, jar, e).await {
            FormError::Show(jar, errors) => {
                let (jar, layout) = layout(&state, jar, Some(&me)).await;
                let page = WelcomePage {
                    layout,
                    errors,
                    username: me.user.username.clone(),
                    name: form.name,
                    role: form.role,
                    roles: role_options(),
                };
                super::render_status(StatusCode::UNPROCESSABLE_ENTITY, jar, &page)
            }
            FormError::Page(page) => page,
        },
    }
}

#[derive(Template)]
#[template(path = "web/verify.html")]
struct VerifyPage {
    layout: Layout,
    token: String,
}

/// Opening the link only shows a button: mail scanners that prefetch links must not use up the
/// single-use token before the person does.
pub async fn verify_page(
    State(state): State<AppState>,
    auth: Option<Auth>,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Response {
    let me = auth.map(|Auth(me)| me);
    let (jar, layout) = layout(&state, jar, me.as_ref()).await;
    render(jar, &VerifyPage { layout, token })
}

pub async fn verify_submit(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    Path(token): Path<String>,
    CheckedForm(_): CheckedForm<NoFields>,
) -> Response {
    match verify::confirm(&state, &token, &client).await {
        // A newly confirmed account can now create or join a team: onboarding's next step.
        Ok(Purpose::Signup) => redirect_with(&state, jar, "/welcome/team", Flash::EmailVerified),
        Ok(Purpose::Change) => redirect_with(&state, jar, "/", Flash::EmailVerified),
        Err(Error::InvalidToken) => message(
            &state,
            jar,
            StatusCode::BAD_REQUEST,
            "This link cannot be used",
            "The confirmation link is invalid, has expired or was already used. Sign in and ask for a new one.",
        ).await,
        Err(e) => match form_errors(&state, jar, e).await {
            FormError::Show(jar, errors) => message(
                &state,
                jar,
                StatusCode::BAD_REQUEST,
                "Not confirmed",
                errors.join(" "),
            ).await,
            FormError::Page(page) => page,
        },
    }
}

pub async fn resend(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> Response {
    match verify::resend(&state, &me).await {
        Ok(()) => redirect_with(&state, jar, "/", Flash::VerificationSent),
        Err(Error::AlreadyVerified) => redirect_with(&state, jar, "/", Flash::EmailVerified),
        Err(e) => match form_errors(&state, jar, e).await {
            FormError::Show(jar, errors) => {
                message(
                    &state,
                    jar,
                    StatusCode::TOO_MANY_REQUESTS,
                    "Not sent",
                    errors.join(" "),
                )
                .await
            }
            FormError::Page(page) => page,
        },
    }
}

#[derive(Template)]
#[template(path = "web/terms.html")]
struct TermsPage {
    layout: Layout,
}

pub async fn terms(State(state): State<AppState>, auth: Option<Auth>, jar: CookieJar) -> Response {
    let me = auth.map(|Auth(me)| me);
    let (jar, layout) = layout(&state, jar, me.as_ref()).await;
    render(jar, &TermsPage { layout })
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_site_are_followed() {
        assert_eq!(safe_next(Some("/teams/acme?x=1")), "/teams/acme?x=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil",
            "evil",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
