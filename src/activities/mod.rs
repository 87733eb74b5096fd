//! Activities: the only code that does I/O on behalf of a workflow.

pub mod upstream;
