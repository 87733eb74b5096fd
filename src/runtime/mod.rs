//! The processes beside the console: the Temporal workers, and how a process is asked to
//! stop.

pub mod signals;
pub mod worker;
