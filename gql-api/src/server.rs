//! The HTTP server: `/graphql` (POST, bearer token), `/graphiql` (the explorer, built from npm),
//! `/healthz`, and the investigation page at `/`.
//!
//! Every request to `/graphql` is authenticated before its body is read, limited in size,
//! depth, complexity and time, and leaves one line in the audit log. Errors always carry
//! `extensions.code`, whether the engine, a resolver or the HTTP layer raised them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sha2::Digest as _;

use crate::audit::{Actions, AuditLog, AuditRecord, subject_ids};
use crate::auth::{Principal, TokenSource, Tokens, TokensError};
use crate::error::{Code, code_for_engine_error};
use crate::limit::{RateLimit, RateLimiter};
use crate::schema::{self, ApiSchema, Limits, Req};
use crate::state::Shared;
use crate::{files, shape};

/// Settings of the server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub tokens: Tokens,
    /// The file `tokens` came from: when set, it is read again whenever it changes, so that
    /// revoking or adding a token needs no restart.
    pub tokens_file: Option<PathBuf>,
    pub audit: PathBuf,
    /// The built investigation page (`web/dist`); not served when absent.
    pub web_dir: Option<PathBuf>,
    /// The built GraphiQL explorer (`graphiql/dist`).
    pub graphiql_dir: Option<PathBuf>,
    pub body_limit: usize,
    /// Largest response body; a larger answer is replaced by a `RESPONSE_TOO_LARGE` error.
    pub response_limit: usize,
    pub timeout: Duration,
    pub limits: Limits,
    /// How often to pick up what other servers sharing the store wrote (reviews, a newer
    /// analysis); `None`: never.
    pub refresh: Option<Duration>,
    /// How many searches each token may make.
    pub search_rate: RateLimit,
}

impl ServerConfig {
    pub fn new(tokens: Tokens, audit: PathBuf) -> Self {
        ServerConfig {
            tokens,
            tokens_file: None,
            audit,
            web_dir: None,
            graphiql_dir: None,
            body_limit: 64 * 1024,
            response_limit: 16 * 1024 * 1024,
            timeout: Duration::from_secs(10),
            limits: Limits::default(),
            refresh: None,
            search_rate: RateLimit::default(),
        }
    }
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the audit log {path}: {source}")]
    Audit {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Tokens(#[from] TokensError),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

struct App {
    shared: Arc<Shared>,
    schema: ApiSchema,
    tokens: TokenSource,
    audit: AuditLog,
    body_limit: usize,
    response_limit: usize,
    limits: Limits,
    timeout: Duration,
    search_limit: Arc<RateLimiter>,
}

/// The router of the whole server.
pub fn router(shared: Arc<Shared>, cfg: &ServerConfig) -> Result<Router, ServeError> {
    // The tokens first: a server that cannot start creates no audit log.
    let tokens = match &cfg.tokens_file {
        Some(path) => TokenSource::file(path)?,
        None => TokenSource::fixed(cfg.tokens.clone()),
    };
    let audit = AuditLog::open(&cfg.audit).map_err(|source| ServeError::Audit {
        path: cfg.audit.clone(),
        source,
    })?;
    let app = Arc::new(App {
        schema: schema::build(Some(shared.clone()), &cfg.limits),
        shared,
        tokens,
        audit,
        body_limit: cfg.body_limit,
        response_limit: cfg.response_limit,
        limits: cfg.limits,
        timeout: cfg.timeout,
        search_limit: Arc::new(RateLimiter::new(cfg.search_rate)),
    });
    let mut router = Router::new()
        .route("/graphql", post(graphql).get(graphql_get))
        .route("/healthz", get(healthz));
    // Both folders are served without following links out of them (`files`).
    router = match cfg.graphiql_dir.as_deref().and_then(files::folder) {
        Some(explorer) => router.nest_service("/graphiql", explorer),
        None => router.route("/graphiql", get(graphiql_missing)),
    };
    if let Some(page) = cfg.web_dir.as_deref().and_then(files::folder) {
        router = router.fallback_service(page);
    }
    Ok(router.with_state(app))
}

/// Serves until `shutdown` completes.
pub async fn serve(
    shared: Arc<Shared>,
    cfg: &ServerConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let refresher = cfg.refresh.map(|every| {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                shared.refresh().await;
            }
        })
    });
    let app = router(shared, cfg)?;
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(task) = refresher {
        task.abort();
    }
    served?;
    Ok(())
}

/// Binds a listener, naming the address in the error.
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, ServeError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

fn error_body(code: Code, message: &str) -> serde_json::Value {
    serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code.as_str() } }]
    })
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The caller, and the SHA-256 of its token (the key of its rate limits).
fn authenticate(tokens: &Tokens, headers: &HeaderMap) -> Option<(Principal, [u8; 32])> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?
        .trim();
    let principal = tokens.authenticate(token).cloned()?;
    Some((principal, sha2::Sha256::digest(token.as_bytes()).into()))
}

/// The operation's name: the request's `operationName`, else the first named operation.
fn operation_name(req: &async_graphql::Request) -> Option<String> {
    if let Some(n) = &req.operation_name {
        return Some(n.clone());
    }
    let q = req.query.trim_start();
    for kw in ["query", "mutation", "subscription"] {
        if let Some(rest) = q.strip_prefix(kw) {
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            return (!name.is_empty()).then_some(name);
        }
    }
    None
}

/// The `extensions.code` of every error in a response body.
fn error_codes(body: &serde_json::Value) -> Vec<String> {
    body.get("errors")
        .and_then(|e| e.as_array())
        .map(|errs| {
            errs.iter()
                .filter_map(|e| e.pointer("/extensions/code")?.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The audit line of a request could not be written.
#[derive(Debug)]
struct AuditFailed;

impl IntoResponse for AuditFailed {
    fn into_response(self) -> Response {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &error_body(
                Code::AuditUnavailable,
                "the audit log cannot be written, so the request is refused",
            ),
        )
    }
}

/// The audit of one request: what it is known to ask for so far, and what its resolvers noted.
/// A request whose line cannot be written is answered with `AUDIT_UNAVAILABLE` instead: nothing
/// is served unaudited.
struct Audited<'a> {
    app: &'a App,
    principal: Option<Principal>,
    operation: Option<String>,
    operation_type: Option<&'static str>,
    root_fields: Vec<String>,
    actions: Actions,
    started: Instant,
}

impl<'a> Audited<'a> {
    fn new(app: &'a App, principal: Option<Principal>, started: Instant) -> Self {
        Audited {
            app,
            principal,
            operation: None,
            operation_type: None,
            root_fields: Vec::new(),
            actions: Actions::default(),
            started,
        }
    }

    /// Writes one line; on failure, the response to send instead.
    fn write(
        &self,
        phase: Option<&'static str>,
        status: StatusCode,
        error_codes: Vec<String>,
        (subject_count, mut subjects): (usize, Vec<String>),
    ) -> Result<(), AuditFailed> {
        let actions = self.actions.take();
        // What a mutation acted on is a subject of the request even when its answer names it
        // under another field (a review's `groupId`).
        let mut subject_count = subject_count;
        for a in &actions {
            if let Some(g) = a.args.get("group")
                && !subjects.contains(g)
            {
                subject_count += 1;
                if subjects.len() < crate::audit::MAX_IDS {
                    subjects.push(g.clone());
                }
            }
        }
        let written = self.app.audit.write(&AuditRecord {
            ts: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            who: self.principal.as_ref().map(|p| p.name.as_str()),
            role: self.principal.as_ref().map(|p| p.role.as_str()),
            operation: self.operation.as_deref(),
            operation_type: self.operation_type,
            root_fields: &self.root_fields,
            actions: &actions,
            phase,
            status: status.as_u16(),
            error_codes,
            duration_ms: self.started.elapsed().as_secs_f64() * 1000.0,
            subject_count,
            subjects,
        });
        written.map_err(|e| {
            tracing::error!(error = %e, path = %self.app.audit.path().display(), "cannot write the audit log; refusing the request");
            AuditFailed
        })
    }

    /// Audits a request answered with `body` (no data: refused, failed or timed out) and
    /// answers it.
    fn respond(&self, status: StatusCode, body: &serde_json::Value) -> Response {
        match self.write(None, status, error_codes(body), (0, Vec::new())) {
            Ok(()) => json_response(status, body),
            Err(e) => e.into_response(),
        }
    }

    fn fail(&self, status: StatusCode, code: Code, message: &str) -> Response {
        self.respond(status, &error_body(code, message))
    }
}

async fn graphql_get(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let started = Instant::now();
    let principal = authenticate(&app.tokens.current(), &headers).map(|(p, _)| p);
    let (status, body) = match &principal {
        None => (
            StatusCode::UNAUTHORIZED,
            error_body(Code::Unauthenticated, "a valid bearer token is required"),
        ),
        Some(_) => (
            StatusCode::METHOD_NOT_ALLOWED,
            error_body(Code::BadRequest, "send GraphQL requests with POST"),
        ),
    };
    let mut r = Audited::new(&app, principal, started).respond(status, &body);
    if r.status() == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

async fn graphql(State(app): State<Arc<App>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let Some((principal, token_hash)) = authenticate(&app.tokens.current(), &parts.headers) else {
        let body = error_body(
            Code::Unauthenticated,
            "a valid bearer token is required (Authorization: Bearer <token>)",
        );
        let mut r = Audited::new(&app, None, started).respond(StatusCode::UNAUTHORIZED, &body);
        if r.status() == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        return r;
    };
    let mut audit = Audited::new(&app, Some(principal.clone()), started);
    let Ok(bytes) = axum::body::to_bytes(Body::new(body), app.body_limit).await else {
        return audit.fail(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::PayloadTooLarge,
            &format!("the request body exceeds {} bytes", app.body_limit),
        );
    };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return audit.fail(
            StatusCode::BAD_REQUEST,
            Code::BatchNotSupported,
            "batched requests are not accepted: send one operation per request",
        );
    }
    let gql_request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            return audit.fail(
                StatusCode::BAD_REQUEST,
                Code::BadRequest,
                &format!("the body is not a GraphQL request: {e}"),
            );
        }
    };
    audit.operation = operation_name(&gql_request);
    // Every alias of a root field is one more piece of work run concurrently with the others:
    // their number is limited before anything runs (parse errors are left to the engine).
    if let Some(shape) = shape::of(
        &gql_request.query,
        gql_request.operation_name.as_deref(),
        app.limits.root_fields,
    ) {
        audit.operation_type = Some(shape.kind);
        audit.root_fields = shape.root_names;
        if shape.root_fields > app.limits.root_fields {
            return audit.fail(
                StatusCode::BAD_REQUEST,
                Code::TooManyRootFields,
                &format!(
                    "the operation asks for more than {} root fields (aliases included)",
                    app.limits.root_fields
                ),
            );
        }
        if shape.aliases > app.limits.aliases {
            return audit.fail(
                StatusCode::BAD_REQUEST,
                Code::TooManyAliases,
                &format!(
                    "the request has {} aliases, more than {}",
                    shape.aliases, app.limits.aliases
                ),
            );
        }
    }
    // A mutation changes the store: it is audited before it runs as well as after, so that a
    // log that cannot be written stops it before it does anything.
    if audit.operation_type == Some("mutation")
        && let Err(r) = audit.write(Some("started"), StatusCode::OK, Vec::new(), (0, Vec::new()))
    {
        return r.into_response();
    }
    let req_data = Req {
        principal: principal.clone(),
        token_hash,
        search_limit: app.search_limit.clone(),
        snap: app.shared.snapshot(),
        reviews: app.shared.reviews(),
        actions: audit.actions.clone(),
    };
    let gql_request = gql_request.data(req_data);
    let Ok(response) = tokio::time::timeout(app.timeout, app.schema.execute(gql_request)).await
    else {
        return audit.fail(
            StatusCode::GATEWAY_TIMEOUT,
            Code::Timeout,
            &format!(
                "the request took longer than {} ms and was stopped",
                app.timeout.as_millis()
            ),
        );
    };
    let too_large = format!(
        "the answer is larger than {} bytes: ask for fewer or smaller items",
        app.response_limit
    );
    // Without errors the response is encoded once, straight from the engine's value; errors
    // go through JSON values so that the engine's own get their codes.
    if response.errors.is_empty() {
        return match serde_json::to_vec(&response) {
            Ok(bytes) if bytes.len() > app.response_limit => {
                audit.fail(StatusCode::BAD_REQUEST, Code::ResponseTooLarge, &too_large)
            }
            Ok(bytes) => {
                if let Err(r) = audit.write(
                    None,
                    StatusCode::OK,
                    Vec::new(),
                    subject_ids(&response.data),
                ) {
                    return r.into_response();
                }
                let mut r = (StatusCode::OK, bytes).into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                r
            }
            Err(e) => audit.fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                Code::Internal,
                &format!("cannot encode the response: {e}"),
            ),
        };
    }
    let mut body = match serde_json::to_value(&response) {
        Ok(v) => v,
        Err(e) => {
            return audit.fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                Code::Internal,
                &format!("cannot encode the response: {e}"),
            );
        }
    };
    add_missing_codes(&mut body);
    let text = body.to_string();
    if text.len() > app.response_limit {
        return audit.fail(StatusCode::BAD_REQUEST, Code::ResponseTooLarge, &too_large);
    }
    if let Err(r) = audit.write(
        None,
        StatusCode::OK,
        error_codes(&body),
        subject_ids(&response.data),
    ) {
        return r.into_response();
    }
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Gives every error without `extensions.code` the code its message implies (the engine's own
/// parse, validation and limit errors carry none).
fn add_missing_codes(body: &mut serde_json::Value) {
    let Some(errors) = body.get_mut("errors").and_then(|e| e.as_array_mut()) else {
        return;
    };
    for e in errors {
        if e.pointer("/extensions/code").is_some() {
            continue;
        }
        let message = e.get("message").and_then(|m| m.as_str()).unwrap_or("");
        let code = code_for_engine_error(message).as_str();
        if let Some(obj) = e.as_object_mut() {
            let ext = obj
                .entry("extensions")
                .or_insert_with(|| serde_json::json!({}));
            if let Some(ext) = ext.as_object_mut() {
                ext.insert("code".into(), code.into());
            }
        }
    }
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let s = app.shared.snapshot();
    json_response(
        StatusCode::OK,
        &serde_json::json!({
            "status": "ok",
            "analysed": s.analysed,
            "analysedAt": s.analysed.then(|| s.results.created_at.clone()),
            "groups": s.results.groups.len(),
        }),
    )
}

async fn graphiql_missing() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "The GraphiQL explorer is not built: run `npm ci && npm run build` in graphiql/ \
         (scripts/demo.sh does it) and start the server with --graphiql-dir graphiql/dist.\n",
    )
        .into_response()
}
