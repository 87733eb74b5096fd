//! `oidc` mode: the authorization code flow with PKCE against the company's identity
//! provider (`openidconnect`). `/auth/oidc` sends the browser there with a fresh state,
//! nonce and PKCE challenge kept in the session; `/auth/callback` checks the state,
//! exchanges the code, verifies the ID token (signature, issuer, audience, expiry, nonce)
//! and signs the person in with the roles their groups claim names.

use axum::{
    extract::{Query, Request},
    response::{Html, IntoResponse, Redirect, Response},
};
use axum_login::AuthSession;
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
    core::{CoreClient, CoreProviderMetadata, CoreResponseType},
};
use serde::{Deserialize, Serialize};

use super::backend::{Backend, Credentials};
use crate::domain::{
    access::{Role, validate_person},
    input::plain_name,
};

/// The identity provider and how its claims map to people and roles.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// This console's `/auth/callback`, as registered with the provider.
    pub redirect_url: String,
    /// The claim that names the person on screen (`preferred_username`, else `name`, else a
    /// verified `email`, else `sub`). It names them only: who they are is the issuer and
    /// `sub`, which the person cannot change.
    pub name_claim: String,
    /// The claim listing the person's groups (`groups`).
    pub roles_claim: String,
    /// Groups named exactly `<prefix><role>` give that role (`tp-support`).
    pub group_prefix: String,
    /// How long roles read from the provider hold before they are read again (with the
    /// refresh token); a refusal then ends the session.
    pub roles_minutes: f64,
}

/// The default prefix of the provider's groups that give roles: a company group named
/// `admin` must not make anyone an admin here.
pub const DEFAULT_GROUP_PREFIX: &str = "tp-";
/// How long roles hold before they are read again from the provider, by default.
pub const DEFAULT_ROLES_MINUTES: f64 = 15.0;

/// What the session keeps between the redirect and the callback.
#[derive(Debug, Serialize, Deserialize)]
struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
}

const FLOW: &str = "oidc_flow";
/// What the session keeps to read the roles again: the refresh token and when they were
/// last read (seconds since 1970).
const REFRESH: &str = "oidc_refresh";
const ROLES_READ_AT: &str = "oidc_roles_read_at";

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider could not be reached or read: {0}")]
    Provider(String),
    #[error("the sign-in took too long or was started elsewhere: start again")]
    State,
    #[error("the identity provider's answer could not be verified: {0}")]
    Token(String),
    #[error("your account has no name this console accepts: {0}")]
    Name(String),
    #[error("your account has no role in this console: ask for one of its groups")]
    NoRole,
    #[error("the session could not be written")]
    Session,
}

impl IntoResponse for OidcError {
    fn into_response(self) -> Response {
        tracing::warn!(target: "audit", action = "sign-in", outcome = "refused", reason = ?self.to_string(), "oidc");
        let status = match self {
            OidcError::Provider(_) | OidcError::Session => axum::http::StatusCode::BAD_GATEWAY,
            OidcError::NoRole => axum::http::StatusCode::FORBIDDEN,
            _ => axum::http::StatusCode::UNAUTHORIZED,
        };
        let sentence = self.to_string().replace('<', "&lt;");
        let page = format!(
            "<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\"><title>Sign-in failed</title>\
             <p role=\"alert\">Sign-in failed: {sentence}</p><p><a href=\"/login\">Back to sign-in</a></p></html>"
        );
        (status, Html(page)).into_response()
    }
}

fn http() -> Result<openidconnect::reqwest::Client, OidcError> {
    openidconnect::reqwest::Client::builder()
        // Following redirects would open SSRF; the provider's endpoints answer directly.
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| OidcError::Provider(e.to_string()))
}

type Ready = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

async fn client(config: &OidcConfig) -> Result<(Ready, openidconnect::reqwest::Client), OidcError> {
    let http = http()?;
    let issuer = IssuerUrl::new(config.issuer_url.clone())
        .map_err(|e| OidcError::Provider(e.to_string()))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .map_err(|e| OidcError::Provider(e.to_string()))?;
    let redirect = RedirectUrl::new(config.redirect_url.clone())
        .map_err(|e| OidcError::Provider(e.to_string()))?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        config.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(redirect);
    Ok((client, http))
}

fn config_of(auth: &AuthSession<Backend>) -> Result<OidcConfig, OidcError> {
    match &auth.backend.mode {
        super::AuthMode::Oidc(config) => Ok(config.clone()),
        _ => Err(OidcError::State),
    }
}

#[derive(Debug, Deserialize)]
pub struct Start {
    #[serde(default)]
    next: String,
}

/// `GET /auth/oidc`: to the identity provider, with state, nonce and a PKCE challenge.
pub async fn start(
    auth: AuthSession<Backend>,
    Query(start): Query<Start>,
) -> Result<Response, OidcError> {
    let config = config_of(&auth)?;
    let (client, _) = client(&config).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let flow = Flow {
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        next: super::sign_in::local_path(&start.next).to_string(),
    };
    auth.session
        .insert(FLOW, flow)
        .await
        .map_err(|_| OidcError::Session)?;
    Ok(Redirect::to(url.as_str()).into_response())
}

#[derive(Debug, Deserialize)]
pub struct Callback {
    code: String,
    state: String,
}

/// A claim of the (already verified) ID token, read from its payload.
fn claims_of(jwt: &str) -> Result<serde_json::Value, OidcError> {
    use base64::Engine;
    let payload = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| OidcError::Token("not a JWT".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| OidcError::Token(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| OidcError::Token(e.to_string()))
}

/// The roles a person's groups give: groups named exactly `<prefix><role>`.
pub fn roles_from(groups: &serde_json::Value, prefix: &str) -> Vec<Role> {
    let names: Vec<&str> = match groups {
        serde_json::Value::Array(items) => items.iter().filter_map(|g| g.as_str()).collect(),
        serde_json::Value::String(one) => one.split([' ', ',']).collect(),
        _ => Vec::new(),
    };
    let mut roles: Vec<Role> = names
        .into_iter()
        .filter_map(|g| g.strip_prefix(prefix))
        .filter_map(Role::exact)
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

/// Who a verified ID token's claims say the person is: their stable id (issuer and
/// subject) and the name shown, from `name_claim`, `preferred_username`, `name`, an
/// `email` the provider verified, or else the subject.
pub fn person_of(
    claims: &serde_json::Value,
    issuer: &str,
    subject: &str,
    name_claim: &str,
) -> (String, String) {
    let verified_email = claims.get("email_verified").and_then(|v| v.as_bool()) == Some(true);
    let usable = |claim: &str| claim != "email" || verified_email;
    // Made to read as one name (spaces single, nothing invisible): the provider's spelling
    // is not ours to refuse, but the records must not show two people alike.
    let name = [name_claim, "preferred_username", "name", "email"]
        .into_iter()
        .filter(|c| usable(c))
        .find_map(|c| claims.get(c).and_then(|v| v.as_str()))
        .map(plain_name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| plain_name(subject));
    let id = format!("oidc:{}#{subject}", issuer.trim_end_matches('/'));
    (id, name)
}

/// The person a verified token's claims describe, with the roles their groups give here.
async fn verified_user(
    auth: &mut AuthSession<Backend>,
    config: &OidcConfig,
    claims: &serde_json::Value,
    person_id: String,
    name: String,
) -> Result<super::Operator, OidcError> {
    validate_person(&name).map_err(|e| OidcError::Name(e.to_string()))?;
    let roles = roles_from(
        claims
            .get(&config.roles_claim)
            .unwrap_or(&serde_json::Value::Null),
        &config.group_prefix,
    );
    if roles.is_empty() {
        return Err(OidcError::NoRole);
    }
    auth.authenticate(Credentials::Verified {
        person_id,
        name,
        roles,
    })
    .await
    .ok()
    .flatten()
    .ok_or(OidcError::Session)
}

/// Whether the session's roles from the provider are older than `roles_minutes`.
pub async fn roles_due(auth: &AuthSession<Backend>) -> bool {
    let super::AuthMode::Oidc(config) = &auth.backend.mode else {
        return false;
    };
    if auth.user.is_none() {
        return false;
    }
    let read_at = auth
        .session
        .get::<i64>(ROLES_READ_AT)
        .await
        .ok()
        .flatten()
        .unwrap_or(0);
    let age = chrono::Utc::now().timestamp().saturating_sub(read_at);
    age as f64 >= config.roles_minutes * 60.0
}

/// Reads the person's roles again from the provider (the refresh token's grant, whose ID
/// token is verified as at sign-in). The same person with their current roles stays
/// signed in; anything else (no refresh token, a refusal, no role left, another subject)
/// is an error, and the caller ends the session.
pub async fn refresh_roles(auth: &mut AuthSession<Backend>) -> Result<(), OidcError> {
    let config = config_of(auth)?;
    let refresh: String = auth
        .session
        .get(REFRESH)
        .await
        .ok()
        .flatten()
        .ok_or(OidcError::State)?;
    let (client, http) = client(&config).await?;
    let tokens = client
        .exchange_refresh_token(&openidconnect::RefreshToken::new(refresh))
        .map_err(|e| OidcError::Provider(e.to_string()))?
        .request_async(&http)
        .await
        .map_err(|e| OidcError::Token(e.to_string()))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| OidcError::Token("the refresh gave no ID token".into()))?;
    // A refreshed ID token carries no fresh nonce: its signature, issuer, audience and
    // expiry are verified.
    let verified = id_token
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .map_err(|e| OidcError::Token(e.to_string()))?;
    let claims = claims_of(&id_token.to_string())?;
    let (person_id, name) = person_of(
        &claims,
        verified.issuer().as_str(),
        verified.subject().as_str(),
        &config.name_claim,
    );
    let before = auth.user.as_ref().map(|u| u.person_id.clone());
    if before.as_deref() != Some(person_id.as_str()) {
        return Err(OidcError::Token("the refresh named another person".into()));
    }
    let user = verified_user(auth, &config, &claims, person_id, name).await?;
    let changed = auth.user.as_ref().map(|u| u.roles.clone()) != Some(user.roles.clone());
    if changed {
        tracing::info!(target: "audit", actor = ?user.name, action = "roles-read-again", roles = ?user.roles, outcome = "changed");
    }
    auth.login(&user).await.map_err(|_| OidcError::Session)?;
    if let Some(refresh) = tokens.refresh_token() {
        let _ = auth.session.insert(REFRESH, refresh.secret().clone()).await;
    }
    let _ = auth
        .session
        .insert(ROLES_READ_AT, chrono::Utc::now().timestamp())
        .await;
    Ok(())
}

/// `GET /auth/callback`: the provider's answer. Signs the person in, or says why not.
pub async fn callback(
    mut auth: AuthSession<Backend>,
    Query(answer): Query<Callback>,
    request: Request,
) -> Result<Response, OidcError> {
    let config = config_of(&auth)?;
    let flow: Flow = auth
        .session
        .remove(FLOW)
        .await
        .ok()
        .flatten()
        .ok_or(OidcError::State)?;
    if flow.state != answer.state {
        return Err(OidcError::State);
    }
    let (client, http) = client(&config).await?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(answer.code))
        .map_err(|e| OidcError::Provider(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier))
        .request_async(&http)
        .await
        .map_err(|e| OidcError::Token(e.to_string()))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| OidcError::Token("no ID token".into()))?;
    let verified = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(flow.nonce))
        .map_err(|e| OidcError::Token(e.to_string()))?;
    // The signature is checked: the payload's other claims can be read as they are.
    let claims = claims_of(&id_token.to_string())?;
    let (person_id, name) = person_of(
        &claims,
        verified.issuer().as_str(),
        verified.subject().as_str(),
        &config.name_claim,
    );
    let user = verified_user(&mut auth, &config, &claims, person_id, name.clone()).await?;
    auth.login(&user).await.map_err(|_| OidcError::Session)?;
    super::layer::mark_new_session(&auth).await;
    if let Some(refresh) = tokens.refresh_token() {
        let _ = auth.session.insert(REFRESH, refresh.secret().clone()).await;
    }
    let _ = auth
        .session
        .insert(ROLES_READ_AT, chrono::Utc::now().timestamp())
        .await;
    let origin = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    tracing::info!(target: "audit", actor = ?name, action = "sign-in", origin = ?origin, outcome = "ok", via = "oidc");
    Ok(Redirect::to(&flow.next).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_give_roles_by_prefix_and_nothing_else() {
        let groups = serde_json::json!(["tp-support", "tp-APPROVER", "support", "tp-root", 7]);
        assert_eq!(roles_from(&groups, "tp-"), vec![Role::Support]);
        assert_eq!(
            roles_from(
                &serde_json::json!(["admin", "tp-admin"]),
                DEFAULT_GROUP_PREFIX
            ),
            vec![Role::Admin],
            "a company group named admin gives nothing"
        );
        assert_eq!(
            roles_from(&serde_json::json!("finance presenter"), ""),
            vec![Role::Finance, Role::Presenter]
        );
        assert!(roles_from(&serde_json::Value::Null, "").is_empty());
    }

    #[test]
    fn a_person_is_their_issuer_and_subject_and_an_email_names_them_only_when_verified() {
        let issuer = "https://idp.example/";
        let claims = serde_json::json!({"preferred_username": "ana", "email": "a@x"});
        assert_eq!(
            person_of(&claims, issuer, "s-1", "preferred_username"),
            ("oidc:https://idp.example#s-1".into(), "ana".into())
        );
        let unverified = serde_json::json!({"email": "boss@x", "email_verified": false});
        assert_eq!(person_of(&unverified, issuer, "s-2", "email").1, "s-2");
        let verified = serde_json::json!({"email": "bo@x", "email_verified": true});
        assert_eq!(person_of(&verified, issuer, "s-3", "email").1, "bo@x");
        // A provider's name is shown as it reads: spaces single, nothing invisible.
        let spaced = serde_json::json!({"name": " Ana \u{200b}  Lima "});
        assert_eq!(person_of(&spaced, issuer, "s-4", "name").1, "Ana Lima");
        // The same name from two subjects is two people.
        let other = person_of(&claims, issuer, "s-9", "preferred_username");
        assert_ne!(
            other.0,
            person_of(&claims, issuer, "s-1", "preferred_username").0
        );
    }
}
