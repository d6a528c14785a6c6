//! The pages: your session, and an admin view of every live session.

use std::sync::Arc;

use axum::{
    Form, Router,
    extract::{Query, State},
    middleware,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use futures_util::StreamExt as _;
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use session_core::Store;
use session_tower::TowerStore;
use tower_sessions::{Session, SessionManagerLayer};

use crate::guard::{self, Guard};

/// Sessions the admin page lists at most (it still counts them all).
const LISTED: usize = 200;

#[derive(Clone)]
pub(crate) struct App {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) label: Arc<str>,
}

pub(crate) fn router(app: App, guard: Guard) -> Router {
    let sessions =
        SessionManagerLayer::new(TowerStore::new(Arc::clone(&app.store))).with_secure(guard.secure());
    let admin_pages = Router::new()
        .route("/admin", get(admin))
        .route("/admin/clear", post(clear))
        .route("/admin/logout-user", post(logout_user))
        .route_layer(middleware::from_fn_with_state(guard.clone(), guard::admin_only));
    Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .layer(sessions)
        .merge(admin_pages)
        .layer(middleware::from_fn_with_state(guard, guard::same_site_posts))
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

/// The store failed: the details go to the operator's log, never to the
/// browser (they may name servers, tables or users).
fn failed(error: impl std::fmt::Display) -> Response {
    eprintln!("the session store failed: {error}");
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "The session store is unavailable right now; please try again.",
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

    const TOKEN: &str = "a-test-admin-token";

    fn demo(store: &Arc<dyn Store>) -> Router {
        let guard = Guard::new(Some(TOKEN.into()), None).unwrap_or_else(|e| panic!("{e}"));
        router(
            App {
                store: Arc::clone(store),
                label: Arc::from("memory"),
            },
            guard,
        )
    }

    /// A same-site form post by the admin.
    fn form(path: &str, body: &str) -> Request<Body> {
        Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("host", "demo.test")
            .header("origin", "http://demo.test")
            .header("cookie", format!("demo_admin={TOKEN}"))
            .body(Body::from(body.to_owned()))
            .unwrap_or_default()
    }

    fn admin_page(path: &str) -> Request<Body> {
        Request::get(path)
            .header("cookie", format!("other=1; demo_admin={TOKEN}"))
            .body(Body::empty())
            .unwrap_or_default()
    }

    async fn status_of(router: &Router, request: Request<Body>) -> axum::http::StatusCode {
        router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|e| match e {})
            .status()
    }

    /// Fails every call, with details no visitor should see.
    #[derive(Debug)]
    struct Failing;

    #[async_trait::async_trait]
    impl Store for Failing {
        async fn get(&self, _: &SessionId) -> session_core::Result<Option<Session>> {
            Err(leak())
        }
        async fn set(&self, _: &SessionId, _: &Session) -> session_core::Result<()> {
            Err(leak())
        }
        async fn create(&self, _: &SessionId, _: &Session) -> session_core::Result<()> {
            Err(leak())
        }
        async fn touch(&self, _: &SessionId, _: Option<time::OffsetDateTime>) -> session_core::Result<()> {
            Err(leak())
        }
        async fn destroy(&self, _: &SessionId) -> session_core::Result<()> {
            Err(leak())
        }
        fn all_stream(&self) -> session_core::SessionStream<'_> {
            Box::pin(futures_util::stream::once(async { Err(leak()) }))
        }
        async fn length(&self) -> session_core::Result<u64> {
            Err(leak())
        }
        async fn clear(&self) -> session_core::Result<()> {
            Err(leak())
        }
    }

    fn leak() -> session_core::Error {
        session_core::Error::Unavailable("db.internal:5432 user=app password=hunter2".into())
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
        let router = demo(&store);
        body_of(&router, form("/admin/logout-user", "name=ada")).await;
        assert_eq!(store.length().await.ok(), Some(1));
        let admin = body_of(&router, admin_page("/admin?notice=x")).await;
        assert!(admin.contains("bob") && !admin.contains(">ada<"), "{admin}");
    }

    #[tokio::test]
    async fn clear_empties_the_store_and_the_admin_page_counts() {
        let store = store_with_users(&["ada", "bob"]).await;
        let router = demo(&store);
        let admin = body_of(&router, admin_page("/admin")).await;
        assert!(admin.contains("Live sessions: <strong>2</strong>"), "{admin}");
        body_of(&router, form("/admin/clear", "")).await;
        assert_eq!(store.length().await.ok(), Some(0));
    }

    #[tokio::test]
    async fn the_admin_pages_need_the_token() {
        use axum::http::StatusCode;
        let store = store_with_users(&["ada"]).await;
        let router = demo(&store);
        let bare = |path: &str| Request::get(path).body(Body::empty()).unwrap_or_default();
        assert_eq!(status_of(&router, bare("/admin")).await, StatusCode::UNAUTHORIZED);
        assert_eq!(
            status_of(&router, bare("/admin?token=a-test-admin-tokeN")).await,
            StatusCode::UNAUTHORIZED
        );
        let mut no_cookie = form("/admin/clear", "");
        no_cookie.headers_mut().remove("cookie");
        assert_eq!(status_of(&router, no_cookie).await, StatusCode::UNAUTHORIZED);
        assert_eq!(store.length().await.ok(), Some(1), "nothing cleared");

        let response = router
            .clone()
            .oneshot(bare(&format!("/admin?token={TOKEN}")))
            .await
            .unwrap_or_else(|e| match e {});
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            cookie.starts_with(&format!("demo_admin={TOKEN};"))
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Strict")
                && !cookie.contains("Secure"),
            "{cookie}"
        );
        assert_eq!(status_of(&router, admin_page("/admin")).await, StatusCode::OK);
    }

    #[tokio::test]
    async fn cross_site_posts_are_refused() {
        use axum::http::{HeaderValue, StatusCode};
        let store = store_with_users(&["ada"]).await;
        let router = demo(&store);
        let mut evil = form("/admin/clear", "");
        evil.headers_mut()
            .insert("origin", HeaderValue::from_static("https://evil.example"));
        assert_eq!(status_of(&router, evil).await, StatusCode::FORBIDDEN);
        let mut fetched = form("/login", "name=mallory");
        fetched.headers_mut().remove("origin");
        fetched
            .headers_mut()
            .insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert_eq!(status_of(&router, fetched).await, StatusCode::FORBIDDEN);
        assert_eq!(store.length().await.ok(), Some(1), "nothing cleared or created");
        // The demo's own forms still work.
        assert_eq!(
            status_of(&router, form("/admin/clear", "")).await,
            StatusCode::SEE_OTHER
        );
        assert_eq!(store.length().await.ok(), Some(0));
    }

    #[tokio::test]
    async fn behind_https_every_cookie_is_secure() {
        let store = store_with_users(&[]).await;
        let guard =
            Guard::new(Some(TOKEN.into()), Some("https://demo.example")).unwrap_or_else(|e| panic!("{e}"));
        let router = router(
            App {
                store,
                label: Arc::from("memory"),
            },
            guard,
        );
        for path in ["/".to_owned(), format!("/admin?token={TOKEN}")] {
            let response = router
                .clone()
                .oneshot(
                    Request::get(path.as_str())
                        .body(Body::empty())
                        .unwrap_or_default(),
                )
                .await
                .unwrap_or_else(|e| match e {});
            let cookie = response
                .headers()
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert!(cookie.contains("; Secure"), "{path}: {cookie:?}");
        }
    }

    #[tokio::test]
    async fn a_failing_store_shows_no_details() {
        let store: Arc<dyn Store> = Arc::new(Failing);
        let router = demo(&store);
        // tower-sessions answers a failed load or save with an empty 500.
        let response = router
            .clone()
            .oneshot(Request::get("/").body(Body::empty()).unwrap_or_default())
            .await
            .unwrap_or_else(|e| match e {});
        assert!(response.status().is_server_error());
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        assert!(!String::from_utf8_lossy(&body).contains("hunter2"));
        for request in [
            admin_page("/admin"),
            form("/admin/clear", ""),
            form("/admin/logout-user", "name=ada"),
        ] {
            let body = body_of(&router, request).await;
            assert!(body.contains("unavailable"), "{body}");
            assert!(
                !body.contains("hunter2") && !body.contains("db.internal"),
                "{body}"
            );
        }
    }
}
