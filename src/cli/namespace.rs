//! `namespace register | list`.

use clap::Subcommand;
use temporalio_client::{
    Client, NamespacedClient,
    tonic::{Code, IntoRequest},
};
use temporalio_common::protos::temporal::api::workflowservice::v1::{
    ListNamespacesRequest, RegisterNamespaceRequest,
};

use super::CliError;
use crate::temporal::search_attributes;

#[derive(Debug, Subcommand)]
pub enum NamespaceCommand {
    /// Register a namespace (and our search attributes in it); an existing one is kept
    Register {
        /// Namespace name
        #[arg(long)]
        name: String,
        /// Description
        #[arg(short = 'd', long, default_value = "")]
        description: String,
        /// Retention of closed workflows, in days
        #[arg(short = 'r', long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=3650))]
        retention_days: u32,
    },
    /// List namespaces
    List,
}

pub async fn register(
    client: &Client,
    name: &str,
    description: &str,
    retention_days: u32,
) -> Result<bool, CliError> {
    if name.trim().is_empty() || name.chars().any(char::is_whitespace) {
        return Err(CliError::Usage(format!(
            "{name:?} is not a namespace name: use letters, digits, '-' or '.'"
        )));
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
    let created = match service.register_namespace(request.into_request()).await {
        Ok(_) => true,
        Err(status) if status.code() == Code::AlreadyExists => false,
        Err(status) => return Err(CliError::Temporal(status.message().to_string())),
    };
    Ok(created)
}

/// Registers our search attributes in the namespace a client is bound to, retrying while
/// a just-registered namespace becomes visible.
pub async fn register_search_attributes(client: &Client) -> Result<Vec<String>, CliError> {
    let mut last = String::new();
    for _ in 0..20 {
        match search_attributes::register(client).await {
            Ok(added) => return Ok(added),
            Err(status) if status.code() == Code::NotFound => {
                last = status.message().to_string();
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(status) => return Err(CliError::Temporal(status.message().to_string())),
        }
    }
    Err(CliError::Temporal(format!(
        "namespace {} did not become ready: {last}",
        client.namespace()
    )))
}

pub async fn list(client: &Client) -> Result<Vec<(String, String)>, CliError> {
    let mut service = client.connection().workflow_service();
    let mut out = Vec::new();
    let mut token = Vec::new();
    loop {
        let response = service
            .list_namespaces(
                ListNamespacesRequest {
                    page_size: 100,
                    next_page_token: token,
                    ..Default::default()
                }
                .into_request(),
            )
            .await
            .map_err(|s| CliError::Temporal(s.message().to_string()))?
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
