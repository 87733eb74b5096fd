//! Everything that talks to the bank or wallet: the activities the workflows call, the
//! simulated bank for demos and tests, the window of recent calls behind the upstream
//! panel, and the bank's statements as files.

pub mod activities;
pub mod simulator;
pub mod statement;
pub mod window;
