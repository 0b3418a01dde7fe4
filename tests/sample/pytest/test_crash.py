"""The crash case (sample suite for shoal): this test kills its own process,
as a segfaulting extension would. The runtime must report it as an error and
still run everything else."""
import os
import signal


def test_crashes_its_process():
    os.kill(os.getpid(), signal.SIGKILL)
