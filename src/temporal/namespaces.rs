//! Registering and listing namespaces.

use temporalio_client::{
    Client,
    tonic::{Code, IntoRequest},
};
use temporalio_common::protos::temporal::api::workflowservice::v1::{
    ListNamespacesRequest, RegisterNamespaceRequest,
};

use super::TemporalError;

/// Namespaces asked for in one page of `list`.
const LIST_PAGE_SIZE: i32 = 100;

/// Registers a namespace; returns false if it existed already (it is kept as it is).
pub async fn register(
    client: &Client,
    name: &str,
    description: &str,
    retention_days: u32,
) -> Result<bool, TemporalError> {
    if name.trim().is_empty() || name.chars().any(char::is_whitespace) {
        return Err(TemporalError::BadNamespaceName(name.to_string()));
    }
    let mut service = client.connection().workflow_service();
    let request = RegisterNamespaceRequest {
        namespace: name.to_string(),
        description: description.to_string(),
        workflow_execution_retention_period: std::time::Duration::from_secs(
            u64::from(retention_days) * 86_400,
        )
        .try_into()
        .ok(),
        ..Default::default()
    };
    match service.register_namespace(request.into_request()).await {
        Ok(_) => Ok(true),
        Err(status) if status.code() == Code::AlreadyExists => Ok(false),
        Err(status) => Err(status.into()),
    }
}

/// Every namespace's name and description.
pub async fn list(client: &Client) -> Result<Vec<(String, String)>, TemporalError> {
    let mut service = client.connection().workflow_service();
    let mut out = Vec::new();
    let mut token = Vec::new();
    loop {
        let response = service
            .list_namespaces(
                ListNamespacesRequest {
                    page_size: LIST_PAGE_SIZE,
                    next_page_token: token,
                    ..Default::default()
                }
                .into_request(),
            )
            .await?
            .into_inner();
        for ns in response.namespaces {
            if let Some(info) = ns.namespace_info {
                out.push((info.name, info.description));
            }
        }
        if response.next_page_token.is_empty() {
            break;
        }
        token = response.next_page_token;
    }
    Ok(out)
}
