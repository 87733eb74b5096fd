//! Integration tests, one module a workflow or surface, each against real Temporal dev
//! servers that the tests start on free ports. Nothing here mocks Temporal.
//!
//! They are one test binary, not one per file: each binary links the whole Temporal
//! stack, and seven of them cost a cold build several minutes and gigabytes of disk.

mod support;

mod access;
mod alerting;
mod audit;
mod authority;

mod chaos;
mod cli;
mod dashboard;
mod manual_handle;
mod money;
mod oidc;
mod query_order;
mod rate_limit;
mod recurring_payment;
mod replay;
mod stale_order;
mod statements;
