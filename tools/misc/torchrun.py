"""``python -m torch.distributed.run``, with bad input reported once.

A rank that meets bad input prints one ``error:`` line (rank 0 only) and
exits with status 2. torchrun would then add its own ``ChildFailedError``
traceback and an error log line per rank; here that case ends with status
2 and nothing more, while any other failure keeps torchrun's full report.
"""
import logging
import signal
import sys

from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.run import main as torchrun_main

#: The exit status of the tools' one-line input errors.
BAD_INPUT = 2


class _QuietBadInput(logging.Filter):
    """Drop the elastic agent's "failed (exitcode: 2)" lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        return f'exitcode: {BAD_INPUT})' not in record.getMessage()


def main(argv=None) -> None:
    quiet = _QuietBadInput()
    for handler in logging.getLogger().handlers:
        handler.addFilter(quiet)
    logging.getLogger('torch.distributed.elastic').addFilter(quiet)
    try:
        torchrun_main(argv if argv is not None else sys.argv[1:])
    except ChildFailedError as err:
        codes = {failure.exitcode for failure in err.failures.values()}
        # the ranks torchrun stopped once one rank had failed end by signal
        if BAD_INPUT in codes and codes <= {
                BAD_INPUT, -signal.SIGTERM, -signal.SIGKILL
        }:
            sys.exit(BAD_INPUT)
        raise


if __name__ == '__main__':
    main()
