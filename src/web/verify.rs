//! `/verify/{token}` (confirming an email address) and `/verify/resend`.

use askama::Template;
use axum::extract::State;
use axum_extra::extract::CookieJar;

use super::guard::{CheckedForm, NoFields, SignedInForm};
use super::signup::onboarding_unfinished;
use super::{Flash, Layout, Page, PageResult, redirect_with, render};
use crate::accounts::Purpose;
use crate::accounts::verify::{self, Confirmed};
use crate::error::Error;
use crate::http::extract::{Auth, Client, Path};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/verify.html")]
struct VerifyPage {
    layout: Layout,
    token: String,
}

/// Opening the link only shows a button: mail scanners that prefetch links must not use up the
/// single-use token before the person does. A link that cannot work says so at once.
pub async fn verify_page(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
) -> PageResult {
    if !verify::usable(&state, &token).await? {
        return dead_link(page);
    }
    render(
        page.jar,
        &VerifyPage {
            layout: page.layout,
            token,
        },
    )
}

pub async fn verify_submit(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    me: Option<Auth>,
    Path(token): Path<String>,
    CheckedForm(_): CheckedForm<NoFields>,
) -> PageResult {
    match verify::confirm(&state, &token, &client).await {
        Ok(Confirmed {
            purpose: Purpose::Signup,
            user_id,
        }) => {
            // Onboarding goes on where it was: the name and role step when the mail came
            // first, else creating or joining a team, which a confirmed account now can.
            let unfinished =
                me.is_some_and(|Auth(me)| me.user.id == user_id && onboarding_unfinished(&me.user));
            let next = if unfinished {
                "/welcome"
            } else {
                "/welcome/team"
            };
            Ok(redirect_with(&state, jar, next, Flash::EmailVerified))
        }
        Ok(Confirmed {
            purpose: Purpose::Change,
            ..
        }) => Ok(redirect_with(&state, jar, "/", Flash::EmailVerified)),
        Err(Error::InvalidToken) => {
            dead_link(Page::build(&state, jar, me.map(|Auth(me)| me)).await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// The way to a new link: signed in, the banner above offers one ("Resend the email");
/// signed out, signing in does.
fn dead_link(page: Page) -> PageResult {
    match &page.me {
        None => page.dead_link(
            "The confirmation link is invalid, has expired or was already used. Sign in to ask for a new one.",
            "/login",
            "Sign in",
        ),
        Some(me) if me.user.email_verified_at.is_none() => page.dead_link(
            "The confirmation link is invalid, has expired or was already used. Ask for a new one with \"Resend the email\" above.",
            "/settings/account",
            "Go to your account settings",
        ),
        Some(_) => page.dead_link(
            "The confirmation link is invalid, has expired or was already used. Your address is confirmed already.",
            "/",
            "Go to the start page",
        ),
    }
}

pub async fn resend(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedInForm { me, .. }: SignedInForm<NoFields>,
) -> PageResult {
    match verify::resend(&state, &me).await {
        Ok(()) => Ok(redirect_with(&state, jar, "/", Flash::VerificationSent)),
        Err(Error::AlreadyVerified) => Ok(redirect_with(&state, jar, "/", Flash::EmailVerified)),
        Err(e) => Err(e.into()),
    }
}
