//! The named search attributes every workflow keeps current, and their registration.
//! The Makefile's `SEARCH_ATTRIBUTES` list must match [`dev_server_flags`] (a test checks).

use std::collections::HashMap;
use temporalio_client::{
    Client, NamespacedClient,
    tonic::{Code, IntoRequest},
};
use temporalio_common::{
    protos::temporal::api::{
        enums::v1::IndexedValueType,
        operatorservice::v1::{AddSearchAttributesRequest, ListSearchAttributesRequest},
    },
    search_attributes::{SearchAttributeKey, Timestamp},
};

use super::TemporalError;

pub const ORDER_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("OrderId");
pub const ORDER_STAGE: SearchAttributeKey<String> = SearchAttributeKey::keyword("OrderStage");
pub const ORDER_RESOLUTION: SearchAttributeKey<String> =
    SearchAttributeKey::keyword("OrderResolution");
pub const UPSTREAM_PROVIDER: SearchAttributeKey<String> =
    SearchAttributeKey::keyword("UpstreamProvider");
pub const BUSINESS_UNIT: SearchAttributeKey<String> = SearchAttributeKey::keyword("BusinessUnit");
pub const ORDER_ENVIRONMENT: SearchAttributeKey<String> =
    SearchAttributeKey::keyword("OrderEnvironment");
pub const ORDER_PRIORITY: SearchAttributeKey<i64> = SearchAttributeKey::int("OrderPriority");
pub const STALE_RETRY_AT: SearchAttributeKey<Timestamp> =
    SearchAttributeKey::datetime("StaleRetryAt");
pub const CLAIMED_BY: SearchAttributeKey<String> = SearchAttributeKey::keyword("ClaimedBy");
pub const ERROR_REASON: SearchAttributeKey<String> = SearchAttributeKey::keyword("ErrorReason");
pub const CONTRACT_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("ContractId");
/// The reason of the error that ended QueryOrder; `ErrorReason` holds the latest.
pub const ORIGINAL_ERROR_REASON: SearchAttributeKey<String> =
    SearchAttributeKey::keyword("OriginalErrorReason");
/// Upstream queries made for the order so far (set on StaleOrder and ManualHandle).
pub const UPSTREAM_ATTEMPTS: SearchAttributeKey<i64> = SearchAttributeKey::int("UpstreamAttempts");

/// 1 while a proposed resolution awaits a second person's approval, else 0. An Int: the
/// dev server's SQL visibility holds at most 10 custom Keyword attributes, all taken.
pub const AWAITING_APPROVAL: SearchAttributeKey<i64> = SearchAttributeKey::int("AwaitingApproval");
/// Every person who acted on the order (claim, release, resolve, propose, approve,
/// reject, retry now): "everything Alice touched" is one visibility query.
pub const ACTORS: SearchAttributeKey<Vec<String>> = SearchAttributeKey::keyword_list("Actors");

/// When the order's current claim was made (ManualHandle): a claim held too long shows as
/// stale in the queue. A Datetime: the Keyword and Int slots of SQL visibility are taken.
pub const CLAIMED_AT: SearchAttributeKey<Timestamp> = SearchAttributeKey::datetime("ClaimedAt");

/// When the resolution that awaits approval was proposed (ManualHandle): approvals left
/// waiting are seen and alerted on. The dev server's last free Datetime slot.
pub const PROPOSED_AT: SearchAttributeKey<Timestamp> = SearchAttributeKey::datetime("ProposedAt");

/// An order's amount in its currency's major units (12.5 for 12.50 USD), for filtering by
/// amount band only: the money itself is integer minor units in the workflow's input. A
/// Double: SQL visibility's Int slots are all taken (and a Double holds every integer an
/// amount can be exactly).
pub const ORDER_AMOUNT: SearchAttributeKey<f64> = SearchAttributeKey::float("OrderAmount");
/// An order's ISO 4217 currency. A KeywordList of one: SQL visibility's Keyword slots are
/// all taken, and a KeywordList matches `OrderCurrency = 'MYR'` exactly.
pub const ORDER_CURRENCY: SearchAttributeKey<Vec<String>> =
    SearchAttributeKey::keyword_list("OrderCurrency");

/// The statement import whose entry settled the order (ManualHandle, StaleOrder): the
/// import's page counts the orders it settled by it. A KeywordList of one: SQL
/// visibility's last free KeywordList slot.
pub const SETTLED_BY: SearchAttributeKey<Vec<String>> =
    SearchAttributeKey::keyword_list("SettledBy");

/// How many notes colleagues left on a waiting order (ManualHandle's `add_note`): the
/// queue shows them on the order's row. A Double: SQL visibility's Int slots are all taken
/// (it holds every count up to `MAX_NOTES` exactly).
pub const NOTE_COUNT: SearchAttributeKey<f64> = SearchAttributeKey::float("NoteCount");

/// The gateway's own reference for the order (`OrderRequest::reference`), which a bank
/// statement may quote instead of the order id: a statement's matching reads it beside the
/// order id, and *Find an order* finds by it. Text, the dev server's last free type slot
/// (its SQL visibility matches Text by words, so both read it back and keep exact matches).
pub const GATEWAY_REFERENCE: SearchAttributeKey<String> =
    SearchAttributeKey::text("GatewayReference");

/// Every custom attribute with its type, as `temporal server start-dev --search-attribute`
/// and `OperatorService::add_search_attributes` want them.
pub fn all() -> [(&'static str, IndexedValueType); 22] {
    [
        (ORDER_ID.name(), IndexedValueType::Keyword),
        (ORDER_STAGE.name(), IndexedValueType::Keyword),
        (ORDER_RESOLUTION.name(), IndexedValueType::Keyword),
        (UPSTREAM_PROVIDER.name(), IndexedValueType::Keyword),
        (BUSINESS_UNIT.name(), IndexedValueType::Keyword),
        (ORDER_ENVIRONMENT.name(), IndexedValueType::Keyword),
        (ORDER_PRIORITY.name(), IndexedValueType::Int),
        (STALE_RETRY_AT.name(), IndexedValueType::Datetime),
        (CLAIMED_BY.name(), IndexedValueType::Keyword),
        (ERROR_REASON.name(), IndexedValueType::Keyword),
        (CONTRACT_ID.name(), IndexedValueType::Keyword),
        (ORIGINAL_ERROR_REASON.name(), IndexedValueType::Keyword),
        (UPSTREAM_ATTEMPTS.name(), IndexedValueType::Int),
        (AWAITING_APPROVAL.name(), IndexedValueType::Int),
        (ACTORS.name(), IndexedValueType::KeywordList),
        (CLAIMED_AT.name(), IndexedValueType::Datetime),
        (ORDER_AMOUNT.name(), IndexedValueType::Double),
        (ORDER_CURRENCY.name(), IndexedValueType::KeywordList),
        (PROPOSED_AT.name(), IndexedValueType::Datetime),
        (SETTLED_BY.name(), IndexedValueType::KeywordList),
        (NOTE_COUNT.name(), IndexedValueType::Double),
        (GATEWAY_REFERENCE.name(), IndexedValueType::Text),
    ]
}

/// `Name=Type` pairs for the dev server's `--search-attribute` flag.
pub fn dev_server_flags() -> Vec<String> {
    all()
        .iter()
        .map(|(name, ty)| {
            let ty = match ty {
                IndexedValueType::Int => "Int",
                IndexedValueType::Datetime => "Datetime",
                IndexedValueType::KeywordList => "KeywordList",
                IndexedValueType::Double => "Double",
                IndexedValueType::Text => "Text",
                _ => "Keyword",
            };
            format!("{name}={ty}")
        })
        .collect()
}

/// Registers our attributes in the namespace a client is bound to, retrying while a
/// just-registered namespace becomes visible. Returns the names it added.
pub async fn register_when_ready(client: &Client) -> Result<Vec<String>, TemporalError> {
    const TRIES: usize = 20;
    const PAUSE: std::time::Duration = std::time::Duration::from_millis(500);
    let mut cause = String::new();
    for _ in 0..TRIES {
        match register(client).await {
            Ok(added) => return Ok(added),
            Err(status) if status.code() == Code::NotFound => {
                cause = status.message().to_string();
                tokio::time::sleep(PAUSE).await;
            }
            Err(status) => return Err(status.into()),
        }
    }
    Err(TemporalError::NamespaceNotReady {
        namespace: client.namespace(),
        cause,
    })
}

/// Registers the attributes that the namespace lacks; a second call changes nothing.
/// Returns the names it added.
async fn register(client: &Client) -> Result<Vec<String>, temporalio_client::tonic::Status> {
    let namespace = client.namespace();
    let mut operator = client.connection().operator_service();
    let existing = operator
        .list_search_attributes(
            ListSearchAttributesRequest {
                namespace: namespace.clone(),
            }
            .into_request(),
        )
        .await?
        .into_inner()
        .custom_attributes;
    let missing: HashMap<String, i32> = all()
        .iter()
        .filter(|(name, _)| !existing.contains_key(*name))
        .map(|(name, ty)| (name.to_string(), *ty as i32))
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let mut added: Vec<String> = missing.keys().cloned().collect();
    added.sort();
    match operator
        .add_search_attributes(
            AddSearchAttributesRequest {
                search_attributes: missing,
                namespace,
            }
            .into_request(),
        )
        .await
    {
        Ok(_) => Ok(added),
        // Another process registered them between our list and our add.
        Err(status) if status.code() == Code::AlreadyExists => Ok(Vec::new()),
        Err(status) => Err(status),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_makefile_passes_the_dev_server_every_attribute_the_code_uses() {
        let makefile = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Makefile"))
            .expect("the Makefile ships with the crate");
        let start = makefile
            .find("SEARCH_ATTRIBUTES :=")
            .expect("the Makefile names SEARCH_ATTRIBUTES");
        let mut listed: Vec<String> = Vec::new();
        for line in makefile[start..].lines() {
            let line = line.trim_start_matches("SEARCH_ATTRIBUTES :=");
            listed.extend(
                line.split_whitespace()
                    .filter(|w| *w != "\\")
                    .map(str::to_string),
            );
            if !line.trim_end().ends_with('\\') {
                break;
            }
        }
        let mut wanted = super::dev_server_flags();
        listed.sort();
        wanted.sort();
        assert_eq!(
            listed, wanted,
            "Makefile SEARCH_ATTRIBUTES and the code disagree"
        );
    }
}
