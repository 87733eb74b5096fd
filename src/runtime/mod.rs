//! The processes beside the console: the Temporal workers, the Tokio runtime each command
//! runs on, and how a process is asked to stop.

pub mod signals;
pub mod worker;

/// The Tokio runtime a command runs on: `threads` runtime threads (the `worker` command's
/// `[worker] threads`), or one per core when `None` (the console, the CLI).
///
/// Workflow code runs on the workers' own thread ([`worker::start`]) and the SDK's history
/// threads, so a worker's runtime carries only its calls to Temporal and to the upstream.
/// On one thread those cost about 7 % less CPU per order than on one per core (2 cores, `make bench-pipeline`), at the same throughput:
/// fewer threads to wake for each message.
pub fn tokio_runtime(threads: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = threads {
        builder.worker_threads(threads);
    }
    builder.enable_all().build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_runtime_has_the_threads_it_was_given_and_others_one_per_core() {
        let one = tokio_runtime(Some(1)).expect("runtime");
        assert_eq!(one.metrics().num_workers(), 1);
        let three = tokio_runtime(Some(3)).expect("runtime");
        assert_eq!(three.metrics().num_workers(), 3);
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let per_core = tokio_runtime(None).expect("runtime");
        assert_eq!(per_core.metrics().num_workers(), cores);
        // It runs timers and I/O, as `#[tokio::main]` did.
        one.block_on(async { tokio::time::sleep(std::time::Duration::from_millis(1)).await });
    }
}
