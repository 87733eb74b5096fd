"""The Python SDK peer of `benches/pipeline.rs`: the bench's bare shape (a workflow that
runs one no-op activity) in the Python SDK (PyPI `temporalio`), polling one task queue of
the bench's dev server until killed. The bench starts the workflows itself and reads this
process's CPU time from /proc.

    python3 benches/peer_worker.py HOST:PORT TASK_QUEUE [gzip|none]

The third argument is the client's gRPC compression: `gzip` (the SDK's default) or `none`
(as our worker runs).
"""

import asyncio
import sys
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.service import GrpcCompression
from temporalio.worker import Worker


@activity.defn(name="BenchNoop")
async def noop(_input: str) -> None:
    return None


@workflow.defn(name="BenchBare")
class Bare:
    @workflow.run
    async def run(self, input: str) -> None:
        await workflow.execute_activity(
            noop, input, start_to_close_timeout=timedelta(seconds=10)
        )


async def main(address: str, task_queue: str, compression: str) -> None:
    modes = {"gzip": GrpcCompression.GZIP, "none": GrpcCompression.NONE}
    client = await Client.connect(address, grpc_compression=modes[compression])
    worker = Worker(client, task_queue=task_queue, workflows=[Bare], activities=[noop])
    await worker.run()


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[3:] not in ([], ["gzip"], ["none"]):
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2], (sys.argv[3:] or ["gzip"])[0]))
