//! The pages: your session, and an admin view of every live session.

use std::sync::Arc;

use axum::{
    Form, Router,
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use futures_util::StreamExt as _;
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use session_core::Store;
use session_tower::TowerStore;
use tower_sessions::{Session, SessionManagerLayer};

/// Sessions the admin page lists at most (it still counts them all).
const LISTED: usize = 200;

#[derive(Clone)]
pub(crate) struct App {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) label: Arc<str>,
}

pub(crate) fn router(app: App) -> Router {
    let sessions = SessionManagerLayer::new(TowerStore::new(Arc::clone(&app.store))).with_secure(false);
    Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .layer(sessions)
        .route("/admin", get(admin))
        .route("/admin/clear", post(clear))
        .route("/admin/logout-user", post(logout_user))
        .with_state(app)
}

#[derive(Deserialize)]
struct Name {
    name: String,
}

#[derive(Deserialize)]
struct Notice {
    notice: Option<String>,
}

fn page(app: &App, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " — session demo" }
                style { "body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}
                    table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left}
                    form{display:inline-block;margin:.3rem 0}.store{color:#555}" }
            }
            body {
                nav { a href="/" { "Your session" } " · " a href="/admin" { "Admin" } }
                h1 { (title) }
                p.store id="store" { "Store: " code { (app.label) } }
                (body)
            }
        }
    }
}

fn failed(error: impl std::fmt::Display) -> Response {
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        format!("the session store failed: {error}"),
    )
        .into_response()
}

async fn home(State(app): State<App>, session: Session) -> Response {
    let visits: u64 = session.get("visits").await.ok().flatten().unwrap_or(0) + 1;
    if let Err(error) = session.insert("visits", visits).await {
        return failed(error);
    }
    let user: Option<String> = session.get("user").await.ok().flatten();
    page(
        &app,
        "Your session",
        html! {
            p id="visits" { "Visits in this session: " strong { (visits) } }
            @match &user {
                Some(user) => {
                    p id="user" { "Logged in as " strong { (user) } }
                    form method="post" action="/logout" { button id="logout" { "Log out" } }
                }
                None => {
                    p id="user" { "Not logged in." }
                    form method="post" action="/login" {
                        input id="name" name="name" placeholder="your name" required;
                        " " button id="login" { "Log in" }
                    }
                }
            }
        },
    )
    .into_response()
}

async fn login(session: Session, Form(form): Form<Name>) -> Response {
    // A new id on login: a session fixed by an attacker before it is useless after.
    if let Err(error) = session.cycle_id().await {
        return failed(error);
    }
    match session.insert("user", form.name.trim()).await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(error) => failed(error),
    }
}

async fn logout(session: Session) -> Response {
    match session.flush().await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(error) => failed(error),
    }
}

async fn admin(State(app): State<App>, Query(notice): Query<Notice>) -> Response {
    let count = match app.store.length().await {
        Ok(count) => count,
        Err(error) => return failed(error),
    };
    let mut rows = Vec::new();
    let mut sessions = app.store.all_stream();
    while let Some(item) = sessions.next().await {
        match item {
            Ok(entry) if rows.len() < LISTED => rows.push(entry),
            Ok(_) => break,
            Err(error) => return failed(error),
        }
    }
    page(
        &app,
        "Admin",
        html! {
            @if let Some(notice) = &notice.notice { p id="notice" { strong { (notice) } } }
            p id="count" { "Live sessions: " strong { (count) } }
            table id="sessions" {
                tr { th { "Session" } th { "User" } th { "Visits" } th { "Expires" } }
                @for (id, session) in &rows {
                    tr {
                        td { code { (id.redacted()) } }
                        td class="user" { (session.get::<String>("user").ok().flatten().unwrap_or_default()) }
                        td { (session.get::<u64>("visits").ok().flatten().unwrap_or(0)) }
                        td { (session.expires_at().map(|at| at.to_string()).unwrap_or_default()) }
                    }
                }
            }
            form method="post" action="/admin/logout-user" {
                input id="everywhere-name" name="name" placeholder="user name" required;
                " " button id="logout-everywhere" { "Log this user out everywhere" }
            }
            form method="post" action="/admin/clear" { button id="clear" { "Clear all sessions" } }
        },
    )
    .into_response()
}

async fn clear(State(app): State<App>) -> Response {
    match app.store.clear().await {
        Ok(()) => Redirect::to("/admin?notice=All+sessions+cleared").into_response(),
        Err(error) => failed(error),
    }
}

async fn logout_user(State(app): State<App>, Form(form): Form<Name>) -> Response {
    let name = form.name.trim();
    let mut doomed = Vec::new();
    let mut sessions = app.store.all_stream();
    while let Some(item) = sessions.next().await {
        match item {
            Ok((id, session)) if session.get::<String>("user").ok().flatten().as_deref() == Some(name) => {
                doomed.push(id)
            }
            Ok(_) => {}
            Err(error) => return failed(error),
        }
    }
    drop(sessions);
    for id in &doomed {
        if let Err(error) = app.store.destroy(id).await {
            return failed(error);
        }
    }
    let notice = format!("Logged {name} out of {} session(s)", doomed.len());
    let query = format!("/admin?notice={}", notice.replace(' ', "+"));
    Redirect::to(&query).into_response()
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request};
    use http_body_util::BodyExt as _;
    use session_core::{Session, SessionId};
    use session_memory::MemoryStore;
    use tower::ServiceExt as _;

    use super::*;

    async fn body_of(router: &Router, request: Request<Body>) -> String {
        let response = router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|e| match e {});
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn form(path: &str, body: &str) -> Request<Body> {
        Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap_or_default()
    }

    async fn store_with_users(users: &[&str]) -> Arc<dyn Store> {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        for user in users {
            let mut session = Session::new();
            session.insert("user", *user).ok();
            store.set(&SessionId::generate(), &session).await.ok();
        }
        store
    }

    #[tokio::test]
    async fn logging_a_user_out_everywhere_destroys_only_their_sessions() {
        let store = store_with_users(&["ada", "ada", "bob"]).await;
        let router = router(App {
            store: Arc::clone(&store),
            label: Arc::from("memory"),
        });
        body_of(&router, form("/admin/logout-user", "name=ada")).await;
        assert_eq!(store.length().await.ok(), Some(1));
        let admin = body_of(
            &router,
            Request::get("/admin?notice=x")
                .body(Body::empty())
                .unwrap_or_default(),
        )
        .await;
        assert!(admin.contains("bob") && !admin.contains(">ada<"), "{admin}");
    }

    #[tokio::test]
    async fn clear_empties_the_store_and_the_admin_page_counts() {
        let store = store_with_users(&["ada", "bob"]).await;
        let router = router(App {
            store: Arc::clone(&store),
            label: Arc::from("memory"),
        });
        let admin = body_of(
            &router,
            Request::get("/admin").body(Body::empty()).unwrap_or_default(),
        )
        .await;
        assert!(admin.contains("Live sessions: <strong>2</strong>"), "{admin}");
        body_of(&router, form("/admin/clear", "")).await;
        assert_eq!(store.length().await.ok(), Some(0));
    }
}
