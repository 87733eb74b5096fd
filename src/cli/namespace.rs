//! `namespace register | list`: the flags; the calls are in `temporal::namespaces`.

use clap::Subcommand;

/// Long enough for a quarter's audit; histories older than this are deleted by Temporal.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

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
        /// Retention of closed workflows, in days: the audit trail of a finished order goes
        /// back no further
        #[arg(short = 'r', long, visible_alias = "retention", default_value_t = DEFAULT_RETENTION_DAYS, value_parser = clap::value_parser!(u32).range(1..=3650))]
        retention_days: u32,
    },
    /// List namespaces
    List,
}
