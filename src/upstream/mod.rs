//! Everything that talks to the bank or wallet: the activities the workflows call, the
//! simulated bank for demos and tests, and the window of recent calls behind the upstream
//! panel.

pub mod activities;
pub mod simulator;
pub mod window;
