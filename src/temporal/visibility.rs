//! Visibility queries with real paging: the raw `ListWorkflowExecutions` call with
//! Temporal's page tokens (the client's lazy stream has none to hand out).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use std::{
    sync::atomic::{AtomicU8, Ordering},
    time::SystemTime,
};
use temporalio_client::{Client, NamespacedClient, WorkflowCountOptions, tonic::IntoRequest};
use temporalio_common::{
    protos::temporal::api::{
        enums::v1::WorkflowExecutionStatus as ProtoStatus,
        workflowservice::v1::ListWorkflowExecutionsRequest,
    },
    search_attributes::SearchAttributes,
};

use super::TemporalError;

/// One execution as a list shows it.
#[derive(Debug, Clone)]
pub struct ListedExecution {
    pub workflow_id: String,
    /// This run of the workflow id (each run is listed on its own).
    pub run_id: String,
    pub workflow_type: String,
    pub start_time: Option<SystemTime>,
    pub close_time: Option<SystemTime>,
    /// `RUNNING`, `COMPLETED`, `FAILED` …
    pub status: String,
    pub attributes: SearchAttributes,
    /// The memo's fields, each as its JSON text.
    pub memo: std::collections::HashMap<String, Vec<u8>>,
}

impl ListedExecution {
    /// How this run ended when it did not complete, in a word
    /// ([`super::histories::ended_unfinished`]); `None` while it runs or once it completed.
    pub fn ended_unfinished(&self) -> Option<&'static str> {
        let name = format!("WORKFLOW_EXECUTION_STATUS_{}", self.status);
        let status = ProtoStatus::from_str_name(&name)?;
        super::histories::ended_unfinished(status.into())
    }

    /// A memo field, read as JSON.
    pub fn memo<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        serde_json::from_slice(self.memo.get(key)?).ok()
    }
}

pub struct ListedPage {
    pub executions: Vec<ListedExecution>,
    pub next_page: Option<String>,
    /// Whether the requested ORDER BY was applied.
    pub sorted: bool,
}

/// 0 unknown, 1 the store sorts, 2 it cannot (SQL visibility: SQLite, MySQL, PostgreSQL).
static ORDER_BY_SUPPORT: AtomicU8 = AtomicU8::new(0);

fn time(t: Option<&prost_wkt_types::Timestamp>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(*t).ok())
}

/// Reads a page token as a page link carries it (empty: the first page).
pub fn decode_page_token(token: Option<&str>) -> Result<Vec<u8>, TemporalError> {
    match token {
        Some(t) if !t.is_empty() => URL_SAFE_NO_PAD
            .decode(t)
            .map_err(|_| TemporalError::DamagedPageToken),
        _ => Ok(Vec::new()),
    }
}

/// A page token as a page link carries it, or `None` on the last page.
pub fn encode_page_token(token: &[u8]) -> Option<String> {
    (!token.is_empty()).then(|| URL_SAFE_NO_PAD.encode(token))
}

/// One page of a visibility query. `order_by` is tried once per process and dropped
/// for good if the store refuses it.
pub async fn list_page(
    client: &Client,
    query: &str,
    page_size: i32,
    page_token: Option<&str>,
    order_by: Option<&str>,
) -> Result<ListedPage, TemporalError> {
    let token = decode_page_token(page_token)?;
    let mut service = client.connection().workflow_service();
    let request = |query: String| ListWorkflowExecutionsRequest {
        namespace: client.namespace(),
        page_size,
        next_page_token: token.clone(),
        query,
    };
    let try_sort = order_by.is_some() && ORDER_BY_SUPPORT.load(Ordering::Relaxed) != 2;
    let mut sorted = false;
    let response = if try_sort {
        let sorted_query = format!("{query} ORDER BY {}", order_by.unwrap_or_default());
        match service
            .list_workflow_executions(request(sorted_query).into_request())
            .await
        {
            Ok(r) => {
                ORDER_BY_SUPPORT.store(1, Ordering::Relaxed);
                sorted = true;
                r
            }
            Err(status) if status.message().contains("ORDER BY") => {
                ORDER_BY_SUPPORT.store(2, Ordering::Relaxed);
                service
                    .list_workflow_executions(request(query.to_string()).into_request())
                    .await?
            }
            Err(status) => return Err(status.into()),
        }
    } else {
        service
            .list_workflow_executions(request(query.to_string()).into_request())
            .await?
    };
    let response = response.into_inner();
    let executions = response
        .executions
        .into_iter()
        .map(|e| ListedExecution {
            workflow_id: e
                .execution
                .as_ref()
                .map(|x| x.workflow_id.clone())
                .unwrap_or_default(),
            run_id: e
                .execution
                .as_ref()
                .map(|x| x.run_id.clone())
                .unwrap_or_default(),
            memo: e
                .memo
                .as_ref()
                .map(|m| {
                    m.fields
                        .iter()
                        .map(|(k, p)| (k.clone(), p.data.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            workflow_type: e
                .r#type
                .as_ref()
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            start_time: time(e.start_time.as_ref()),
            close_time: time(e.close_time.as_ref()),
            status: e
                .status()
                .as_str_name()
                .trim_start_matches("WORKFLOW_EXECUTION_STATUS_")
                .to_string(),
            attributes: e
                .search_attributes
                .as_ref()
                .map(SearchAttributes::from_proto)
                .unwrap_or_default(),
        })
        .collect();
    Ok(ListedPage {
        executions,
        next_page: encode_page_token(&response.next_page_token),
        sorted,
    })
}

/// How many executions match a visibility query.
pub async fn count(client: &Client, query: &str) -> Result<usize, TemporalError> {
    client
        .count_workflows(query, WorkflowCountOptions::default())
        .await
        .map(|c| c.count())
        .map_err(TemporalError::from)
}
