//! Errors of the API, each with the machine-readable code clients see in `extensions.code`.

use async_graphql::ErrorExtensions;

/// Every code a client can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    NoAnalysis,
    Busy,
    Timeout,
    PayloadTooLarge,
    BadRequest,
    BatchNotSupported,
    QueryTooDeep,
    QueryTooComplex,
    RateLimited,
    TooManyRootFields,
    TooManyAliases,
    ResponseTooLarge,
    AuditUnavailable,
    ValidationFailed,
    ParseFailed,
    StoreUnavailable,
    IngestIncomplete,
    Internal,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::NotFound => "NOT_FOUND",
            Code::BadUserInput => "BAD_USER_INPUT",
            Code::NoAnalysis => "NO_ANALYSIS",
            Code::Busy => "BUSY",
            Code::Timeout => "TIMEOUT",
            Code::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Code::BadRequest => "BAD_REQUEST",
            Code::BatchNotSupported => "BATCH_NOT_SUPPORTED",
            Code::QueryTooDeep => "QUERY_TOO_DEEP",
            Code::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Code::RateLimited => "RATE_LIMITED",
            Code::TooManyRootFields => "TOO_MANY_ROOT_FIELDS",
            Code::TooManyAliases => "TOO_MANY_ALIASES",
            Code::ResponseTooLarge => "RESPONSE_TOO_LARGE",
            Code::AuditUnavailable => "AUDIT_UNAVAILABLE",
            Code::ValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Code::ParseFailed => "GRAPHQL_PARSE_FAILED",
            Code::StoreUnavailable => "STORE_UNAVAILABLE",
            Code::IngestIncomplete => "INGEST_INCOMPLETE",
            Code::Internal => "INTERNAL",
        }
    }
}

/// An error of the API.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: Code,
    pub message: String,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(Code::NotFound, format!("no {what} `{id}`"))
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(Code::BadUserInput, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Code::Forbidden, message)
    }

    /// A store error: the store being unreachable is told apart from other failures.
    pub fn store(e: impl std::borrow::Borrow<ingest::StoreError>) -> Self {
        let e = e.borrow();
        if e.is_unavailable() {
            Self::new(
                Code::StoreUnavailable,
                format!("the store is unavailable: {e}"),
            )
        } else {
            Self::new(Code::Internal, format!("store error: {e}"))
        }
    }

    pub fn service(e: service::ServiceError) -> Self {
        match e {
            service::ServiceError::Store(s) => Self::store(s),
            e @ service::ServiceError::IncompleteIngest(_) => {
                Self::new(Code::IngestIncomplete, e.to_string())
            }
            other => Self::new(Code::Internal, other.to_string()),
        }
    }

    /// As a GraphQL error with `extensions.code`.
    pub fn gql(self) -> async_graphql::Error {
        let code = self.code.as_str();
        async_graphql::Error::new(self.message).extend_with(|_, e| e.set("code", code))
    }
}

/// The code for an error async-graphql raised itself (parse, validation, limits), which carries
/// no extensions.
pub fn code_for_engine_error(message: &str) -> Code {
    if message.contains("nested too deep") || message.contains("depth") {
        Code::QueryTooDeep
    } else if message.contains("too complex") || message.contains("complexity") {
        Code::QueryTooComplex
    } else if message.starts_with(" --> ")
        || message.contains("expected") && message.contains("-->")
    {
        Code::ParseFailed
    } else {
        Code::ValidationFailed
    }
}
