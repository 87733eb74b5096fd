//! What every request passes before it reaches a page or a server function: the `Host`
//! it names must be one this dashboard answers to (DNS rebinding), a request that changes
//! state must not come from another site (CSRF: `Sec-Fetch-Site`, else `Origin`), and every
//! response says it may not be framed. The same rules as tower-http 0.7's cross-origin
//! protection, which leptos_axum 0.8's tower-http 0.6 does not have yet.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The `Host` names the dashboard answers to. Empty: loopback names only (`127.0.0.1`,
/// `localhost`, `[::1]`), on any port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts(Arc<Vec<String>>);

impl AllowedHosts {
    pub fn new(hosts: Vec<String>) -> Self {
        AllowedHosts(Arc::new(
            hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
        ))
    }

    /// Whether a `Host` header value (`name` or `name:port`) is allowed.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        let name = host_name(&host);
        if self.0.is_empty() {
            return matches!(name, "127.0.0.1" | "localhost" | "[::1]");
        }
        self.0
            .iter()
            .any(|allowed| *allowed == host || allowed == name)
    }
}

/// `example.com` of `example.com:3000`, `[::1]` of `[::1]:3000`.
fn host_name(host: &str) -> &str {
    match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => &host[..i],
        _ => host,
    }
}

/// Headers every response carries: no framing, no sniffing, no referrer to other sites.
const HARDENING: [(&str, &str); 5] = [
    (
        "content-security-policy",
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
];

fn refuse(status: StatusCode, why: &'static str, detail: &str, request: &Request) -> Response {
    tracing::warn!(
        target: "audit",
        outcome = "refused",
        reason = why,
        detail = ?detail,
        method = %request.method(),
        path = ?request.uri().path(),
        "request refused"
    );
    (status, why).into_response()
}

/// Whether a state-changing request comes from this site, as the browser tells it.
fn cross_site(headers: &HeaderMap, host: &str) -> Option<String> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return (!matches!(site, "same-origin" | "none")).then(|| format!("Sec-Fetch-Site {site}"));
    }
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or("null");
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(origin);
    (!origin_host.eq_ignore_ascii_case(host)).then(|| format!("Origin {origin}"))
}

/// The middleware: host, then cross-site check, then the hardening headers.
pub async fn guard(State(hosts): State<AllowedHosts>, request: Request, next: Next) -> Response {
    // HTTP/1.1 names the host in `Host`; HTTP/2 in the request's authority.
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    if !hosts.allows(&host) {
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "this dashboard does not answer to that host name",
            &host,
            &request,
        );
    }
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && let Some(detail) = cross_site(request.headers(), &host) {
        return refuse(
            StatusCode::FORBIDDEN,
            "a request from another site cannot change anything here",
            &detail,
            &request,
        );
    }
    let mut response = next.run(request).await;
    for (name, value) in HARDENING {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A console whose every request takes a minute, cut after 20 ms as [`within_time`]
    /// cuts after [`REQUEST_TIME_LIMIT`].
    fn slow_console() -> axum::Router {
        axum::Router::new()
            .route(
                "/{*any}",
                axum::routing::any(|| async {
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                    "late"
                }),
            )
            .layer(axum::middleware::from_fn(|request, next| {
                within(std::time::Duration::from_millis(20), request, next)
            }))
    }

    async fn cut(method: Method, accept: &str) -> (StatusCode, String, String) {
        use tower::ServiceExt;
        let request = Request::builder()
            .method(method)
            .uri("/orders/o-1?x=1&y=2")
            .header(header::ACCEPT, accept)
            .header("x-request-id", "req-7")
            .body(axum::body::Body::empty())
            .expect("request");
        let response = slow_console().oneshot(request).await.expect("answer");
        let status = response.status();
        let kind = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        (status, kind, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_request_cut_short_says_whether_what_was_sent_may_still_take_effect() {
        let (status, kind, page) = cut(Method::POST, "text/html,application/xhtml+xml").await;
        assert_eq!(
            status,
            StatusCode::GATEWAY_TIMEOUT,
            "not 408, which browsers resend"
        );
        assert!(kind.starts_with("text/html"), "{kind}");
        assert!(page.contains("may still take effect"), "{page}");
        assert!(page.contains("req-7"), "the reference: {page}");
        assert!(
            !page.contains("Load the page again"),
            "a form is not sent again: {page}"
        );

        let (status, _, page) = cut(Method::GET, "text/html").await;
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
        assert!(page.contains("load the page again in a moment"), "{page}");
        assert!(
            page.contains(r#"href="/orders/o-1?x=1&amp;y=2""#),
            "the same address, escaped: {page}"
        );

        let (_, kind, text) = cut(Method::POST, "*/*").await;
        assert!(kind.starts_with("text/plain"), "{kind}");
        assert_eq!(text, CUT_CHANGE);
    }

    #[tokio::test]
    async fn a_body_still_arriving_at_the_limit_is_the_senders_408() {
        use tower::ServiceExt;
        let console = axum::Router::new()
            .route(
                "/form",
                axum::routing::post(
                    |body: axum::body::Bytes| async move { body.len().to_string() },
                ),
            )
            .layer(axum::middleware::from_fn(|request, next| {
                within(std::time::Duration::from_millis(20), request, next)
            }));
        let never = futures::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
        let request = Request::builder()
            .method(Method::POST)
            .uri("/form")
            .body(axum::body::Body::from_stream(never))
            .expect("request");
        let response = console.clone().oneshot(request).await.expect("answer");
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        // A whole body goes through as it came.
        let request = Request::builder()
            .method(Method::POST)
            .uri("/form")
            .body(axum::body::Body::from("rate=1"))
            .expect("request");
        let response = console.oneshot(request).await.expect("answer");
        let body = axum::body::to_bytes(response.into_body(), 64)
            .await
            .expect("body");
        assert_eq!(&body[..], b"6");
    }

    #[test]
    fn loopback_names_only_unless_configured() {
        let loopback = AllowedHosts::default();
        assert!(loopback.allows("127.0.0.1:3000"));
        assert!(loopback.allows("localhost"));
        assert!(loopback.allows("[::1]:3000"));
        assert!(!loopback.allows("evil.example:3000"), "DNS rebinding");
        let configured = AllowedHosts::new(vec!["console.example".into()]);
        assert!(configured.allows("Console.Example:443"));
        assert!(!configured.allows("127.0.0.1:3000"));
    }

    #[test]
    fn cross_site_requests_are_told_apart() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            cross_site(&headers, "127.0.0.1:3000"),
            None,
            "curl: no browser"
        );
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:3000"),
        );
        assert_eq!(cross_site(&headers, "127.0.0.1:3000"), None);
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(cross_site(&headers, "127.0.0.1:3000").is_some());
        headers.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert_eq!(cross_site(&headers, "127.0.0.1:3000"), None);
        headers.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(cross_site(&headers, "127.0.0.1:3000").is_some());
    }
}

/// How many requests this process works on at once; past it, 503 with `Retry-After` (the
/// reads behind a page cost Temporal, so a flood waits instead of piling onto it).
/// `/healthz`, `/readyz`, `/metrics` and the assets are outside it. A semaphore of our own:
/// tower's load-shed layer needs an error-handling layer around it for the same result.
#[derive(Debug, Clone)]
pub struct RequestBudget(Arc<Semaphore>);

impl RequestBudget {
    pub fn new(at_once: usize) -> Self {
        RequestBudget(Arc::new(Semaphore::new(at_once.max(1))))
    }
}

/// The default budget: requests a process works on at once.
pub const DEFAULT_REQUESTS_AT_ONCE: usize = 64;

impl Default for RequestBudget {
    fn default() -> Self {
        RequestBudget::new(DEFAULT_REQUESTS_AT_ONCE)
    }
}

/// The middleware: a permit for the request's time, or 503 at once.
pub async fn within_budget(
    State(budget): State<RequestBudget>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let exempt = matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/pkg/");
    if exempt {
        return next.run(request).await;
    }
    let Ok(_permit) = budget.0.clone().try_acquire_owned() else {
        tracing::warn!(target: "audit", outcome = "refused", reason = "busy", path = ?path, "request refused");
        let mut answer = refusal(
            &Asked::of(&request),
            StatusCode::SERVICE_UNAVAILABLE,
            "the dashboard is busy: try again in a moment",
        );
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return answer;
    };
    next.run(request).await
}

/// What a refusal made before a page or server function answered needs of its request.
struct Asked {
    /// A browser loading a page (or posting a plain form): it shows the answer as a page.
    wants_html: bool,
    /// A method that may change something (a server function, a form).
    changes: bool,
    /// Where it was sent, to send it again from the answer.
    path: String,
    request_id: Option<String>,
}

impl Asked {
    fn of(request: &Request) -> Asked {
        Asked {
            wants_html: request
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html")),
            changes: !matches!(*request.method(), Method::GET | Method::HEAD),
            path: request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            request_id: request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        }
    }
}

/// A refusal as its asker reads it: a small page, for a browser that asked for one (its
/// sentence, the way back, the reference), else the sentence as plain text.
fn refusal(asked: &Asked, status: StatusCode, sentence: &str) -> Response {
    if !asked.wants_html {
        return (status, sentence.to_string()).into_response();
    }
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let again = match asked.changes {
        // Sending a form again could do it twice: back to the page instead.
        true => r#"<a href="/">The manual queue</a>"#.to_string(),
        false => format!(
            r#"<a href="{}">Load the page again</a> · <a href="/">The manual queue</a>"#,
            escape(&asked.path)
        ),
    };
    let reference = asked
        .request_id
        .as_deref()
        .map(|id| format!("<p>Reference: <code>{}</code></p>", escape(id)))
        .unwrap_or_default();
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>temporal-playground</title></head>\
         <body style=\"font-family: sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem\">\
         <h1>temporal-playground</h1><p role=\"alert\">{}</p><p>{again}</p>{reference}</body></html>",
        escape(sentence)
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

/// Longest a request may take, body included (a slow sender holds a permit no longer).
/// The live stream is exempt: it is meant to stay open.
pub const REQUEST_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);
/// Largest request body a page or server function takes: a form's fields.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What a request cut at [`REQUEST_TIME_LIMIT`] answers when it may have changed something:
/// the update it sent may still land.
pub const CUT_CHANGE: &str = "Temporal did not answer within 30 s: what you sent may still take effect. Look at the order or page again before you send it a second time.";
/// What a request cut at [`REQUEST_TIME_LIMIT`] answers when it only read.
pub const CUT_READ: &str = "Temporal did not answer within 30 s: load the page again in a moment.";

/// The middleware: a request past [`REQUEST_TIME_LIMIT`] is dropped and answered 504 (the
/// console waited on Temporal), with a sentence that says whether what was sent may still
/// take effect. Not 408: a browser sends a request answered 408 again by itself, which
/// for a form could do it twice. A body still arriving at the limit is the sender's
/// slowness, and nothing was done: that one is 408.
pub async fn within_time(request: Request, next: Next) -> Response {
    within(REQUEST_TIME_LIMIT, request, next).await
}

/// What a request whose body had not all arrived at [`REQUEST_TIME_LIMIT`] answers (408:
/// the sender was slow; nothing was done, so sending it again is safe).
pub const BODY_TOO_SLOW: &str = "the request's body did not arrive within 30 s: send it again";

async fn within(limit: std::time::Duration, request: Request, next: Next) -> Response {
    use axum::body::HttpBody;
    use futures::StreamExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    if request.uri().path() == "/api/live" {
        return next.run(request).await;
    }
    let asked = Asked::of(&request);
    // Whether the whole body arrived: a cut before then is the sender's slowness.
    let (parts, body) = request.into_parts();
    let arrived = Arc::new(AtomicBool::new(body.is_end_stream()));
    let request = match arrived.load(Ordering::Relaxed) {
        true => Request::from_parts(parts, body),
        false => {
            let seen = arrived.clone();
            let end = futures::stream::poll_fn(move |_| {
                seen.store(true, Ordering::Relaxed);
                std::task::Poll::<Option<Result<axum::body::Bytes, axum::Error>>>::Ready(None)
            });
            let body = axum::body::Body::from_stream(body.into_data_stream().chain(end));
            Request::from_parts(parts, body)
        }
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) if !arrived.load(Ordering::Relaxed) => {
            tracing::warn!(target: "audit", outcome = "refused", reason = "body too slow", path = ?asked.path, "request cut");
            refusal(&asked, StatusCode::REQUEST_TIMEOUT, BODY_TOO_SLOW)
        }
        Err(_) => {
            tracing::warn!(target: "audit", outcome = "refused", reason = "too slow", path = ?asked.path, changes = asked.changes, "request cut");
            let sentence = match asked.changes {
                true => CUT_CHANGE,
                false => CUT_READ,
            };
            refusal(&asked, StatusCode::GATEWAY_TIMEOUT, sentence)
        }
    }
}

/// Request ids we keep from a proxy: letters, digits and `-_.:`, at most 64. Anything else
/// is replaced by one of ours, so no header can write text into our log lines.
pub fn plausible_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The middleware: drops an `x-request-id` that is not [`plausible_request_id`] (ours is
/// made in its place).
pub async fn sane_request_id(mut request: Request, next: Next) -> Response {
    let bad = request
        .headers()
        .get("x-request-id")
        .is_some_and(|v| !v.to_str().is_ok_and(plausible_request_id));
    if bad {
        request.headers_mut().remove("x-request-id");
    }
    next.run(request).await
}
