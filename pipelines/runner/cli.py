"""The command line every task shares.

    python -m pipelines.<task> [train|evaluate|predict|export] [options]

No sub-command trains, evaluates, exports, then predicts a few test inputs with
the export. Options go before or after the sub-command.
"""

import argparse
import sys

from recurrent.errors import UserInputError

COMMANDS = {
    "train": "train on --data (default: the task's bundled data); resumes an interrupted run",
    "evaluate": "score an export (default: the latest) and the baselines on the test split",
    "predict": "run an export (default: the latest) on raw inputs",
    "export": "re-export the best checkpoint of a run (default: the latest run)",
}


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    def default(value):
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "--data", default=default(None), help="bundled name, tfds:NAME, or file"
    )
    parser.add_argument("--config", default=default(None), metavar="FILE.toml")
    parser.add_argument(
        "--set",
        nargs="+",
        action="extend",
        default=default([]),
        metavar="KEY=VALUE",
        help="override settings of the task's Config",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=default(False),
        help="tiny model, few batches",
    )
    parser.add_argument(
        "--output", default=default("saved_models"), help="folder of exports and runs"
    )
    parser.add_argument("--run", default=default(None), help="name of the training run")
    parser.add_argument("--model", default=default(None), help="export folder to use")


def parser_for(task) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m pipelines.{task.name}",
        description=f"{task.name}: {task.summary}. With no command: train, evaluate, "
        "export, then predict a few test inputs with the export.",
    )
    _common(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _common(sub, suppress=True)
        if name == "predict":
            sub.add_argument("inputs", nargs="*", help=task.input_help)
            sub.add_argument(
                "--input", dest="input_file", help="file with one input per line"
            )
    return parser


def main(task, argv=None) -> None:
    """Runs the command line of `task` (a Task or a task name) and exits."""
    try:
        if isinstance(task, str):
            import tasks

            task = tasks.get(task)
        code = run(task, argv)
    except UserInputError as error:
        print(f"error: {error}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        print(
            "interrupted: run the same command again to resume training",
            file=sys.stderr,
        )
        code = 130
    sys.exit(code)


def run(task, argv=None) -> int:
    args = parser_for(task).parse_args(argv)
    from pipelines.runner import commands

    if args.command is None:
        commands.run_all(task, args)
    else:
        getattr(commands, args.command)(task, args)
    return 0
