//! OpenAPI links: how one answer feeds the next request. They document the flows (sign up,
//! then sign in; list sessions, then revoke one) and let schemathesis's stateful phase chain
//! real ids instead of guessing them.

use serde_json::json;
use utoipa::Modify;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::{OpenApi, RefOr};

use super::responses::operations;

/// One link: from an operation's answer (method, path, status) to an operation id.
struct Link {
    from: (&'static str, &'static str, &'static str),
    name: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
    body: Option<fn() -> serde_json::Value>,
}

const BEARER_FROM_BODY: (&str, &str) = ("header.Authorization", "Bearer {$response.body#/token}");
const TEAM: (&str, &str) = ("path.slug", "$response.body#/slug");
const SAME_TEAM: (&str, &str) = ("path.slug", "$request.path.slug");

const LINKS: &[Link] = &[
    Link {
        from: ("post", "/api/v1/signup", "201"),
        name: "SignIn",
        to: "login_handler",
        parameters: &[],
        body: Some(
            || json!({"login": "$request.body#/username", "password": "$request.body#/password"}),
        ),
    },
    Link {
        from: ("post", "/api/v1/signup", "201"),
        name: "Me",
        to: "me",
        parameters: &[BEARER_FROM_BODY],
        body: None,
    },
    Link {
        from: ("post", "/api/v1/signup", "201"),
        name: "RevokeThisSession",
        to: "revoke_session",
        parameters: &[BEARER_FROM_BODY, ("path.id", "$response.body#/session_id")],
        body: None,
    },
    Link {
        from: ("post", "/api/v1/signup", "201"),
        name: "PublicProfile",
        to: "public_profile",
        parameters: &[("path.username", "$response.body#/user/username")],
        body: None,
    },
    Link {
        from: ("post", "/api/v1/login", "200"),
        name: "RevokeThisSession",
        to: "revoke_session",
        parameters: &[BEARER_FROM_BODY, ("path.id", "$response.body#/session_id")],
        body: None,
    },
    Link {
        from: ("post", "/api/v1/login", "200"),
        name: "SignOut",
        to: "logout",
        parameters: &[BEARER_FROM_BODY],
        body: None,
    },
    Link {
        from: ("get", "/api/v1/me/sessions", "200"),
        name: "RevokeFirst",
        to: "revoke_session",
        parameters: &[("path.id", "$response.body#/0/id")],
        body: None,
    },
    Link {
        from: ("get", "/api/v1/me", "200"),
        name: "PublicProfile",
        to: "public_profile",
        parameters: &[("path.username", "$response.body#/username")],
        body: None,
    },
    Link {
        from: ("post", "/api/v1/teams", "201"),
        name: "Show",
        to: "show",
        parameters: &[TEAM],
        body: None,
    },
    Link {
        from: ("post", "/api/v1/teams", "201"),
        name: "Update",
        to: "update",
        parameters: &[TEAM],
        body: None,
    },
    Link {
        from: ("post", "/api/v1/teams", "201"),
        name: "Members",
        to: "members",
        parameters: &[TEAM],
        body: None,
    },
    Link {
        from: ("post", "/api/v1/teams", "201"),
        name: "Invite",
        to: "invite",
        parameters: &[TEAM],
        body: None,
    },
    Link {
        from: ("post", "/api/v1/teams", "201"),
        name: "Invitations",
        to: "list_invitations",
        parameters: &[TEAM],
        body: None,
    },
    Link {
        from: ("post", "/api/v1/teams", "201"),
        name: "JoinRequests",
        to: "join_requests",
        parameters: &[TEAM],
        body: None,
    },
    Link {
        from: ("post", "/api/v1/teams", "201"),
        name: "Leave",
        to: "leave",
        parameters: &[TEAM],
        body: None,
    },
    Link {
        from: ("post", "/api/v1/teams", "201"),
        name: "Delete",
        to: "remove_team",
        parameters: &[TEAM],
        body: Some(|| json!({"confirm_slug": "$response.body#/slug"})),
    },
    Link {
        from: ("post", "/api/v1/teams/{slug}/invitations", "201"),
        name: "Resend",
        to: "resend_invitation",
        parameters: &[SAME_TEAM, ("path.id", "$response.body#/id")],
        body: None,
    },
    Link {
        from: ("post", "/api/v1/teams/{slug}/invitations", "201"),
        name: "Revoke",
        to: "revoke_invitation",
        parameters: &[SAME_TEAM, ("path.id", "$response.body#/id")],
        body: None,
    },
    Link {
        from: ("get", "/api/v1/teams/{slug}/members", "200"),
        name: "SetRole",
        to: "set_role",
        parameters: &[SAME_TEAM, ("path.username", "$response.body#/0/username")],
        body: None,
    },
    Link {
        from: ("post", "/oauth/device/code", "200"),
        name: "Poll",
        to: "token",
        parameters: &[],
        body: Some(|| {
            json!({
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "client_id": crate::oauth::CLIENT_ID,
                "device_code": "$response.body#/device_code",
            })
        }),
    },
];

pub struct Links;

impl Modify for Links {
    fn modify(&self, doc: &mut OpenApi) {
        for link in LINKS {
            let (method, path, status) = link.from;
            let response = doc
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| operations(item).into_iter().find(|(m, _)| *m == method))
                .and_then(|(_, op)| op.responses.responses.get_mut(status));
            // A link from an answer the document does not describe is a bug in this table.
            let Some(RefOr::T(response)) = response else {
                panic!(
                    "OpenAPI link {} starts at an undescribed answer: {method} {path} {status}",
                    link.name
                );
            };
            let mut built = LinkBuilder::new().operation_id(link.to);
            for (name, expression) in link.parameters {
                built = built.parameter(*name, *expression);
            }
            built = built.request_body(link.body.map(|b| b()));
            response
                .links
                .insert(link.name.to_owned(), RefOr::T(built.build()));
        }
    }
}
