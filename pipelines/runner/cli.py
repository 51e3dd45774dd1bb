"""The command line every task shares.

    python -m pipelines.<task> [train|evaluate|predict|export] [options]

No sub-command trains, evaluates, exports, then predicts a few test inputs with
the export. Options go before or after the sub-command; a command refuses the
options it does not use. Arguments are parsed before TensorFlow is imported,
so `--help` and mistakes in the command line answer at once.
"""

import argparse
import sys

import tasks
from recurrent.errors import UserInputError

COMMANDS = {
    "train": "train on --data (default: the task's bundled data); resumes an interrupted run",
    "evaluate": "score an export (default: the latest) and the baselines on the test split",
    "predict": "run an export (default: the latest) on raw inputs",
    "export": "re-export the best checkpoint of a run (default: the latest run)",
}
# The options each command uses; `--output` is common to all.
OPTIONS = {
    None: ("--data", "--config", "--set", "--smoke", "--run", "--init-from"),
    "train": ("--data", "--config", "--set", "--smoke", "--run", "--init-from"),
    "evaluate": ("--model", "--data", "--config", "--set"),
    "predict": ("--model", "--input"),
    "export": ("--run",),
}
WHY_NOT = {
    "evaluate": "it scores an export with the settings it was trained with",
    "predict": "it runs an export as it was trained; pass --model to pick one",
    "export": "it re-exports a run with the data and settings it was trained with",
}


class Interrupted(Exception):
    """Ctrl-C during a step, with what it means for the user's files."""


def _is_setting(word: str) -> bool:
    return "=" in word and not word.startswith("-")


def split_settings(argv: list[str]) -> tuple[list[str], list[str]]:
    """Takes the `--set KEY=VALUE ...` words out of `argv`.

    `--set` takes only words of the form key=value, so a value never swallows
    the sub-command or an input that follows it. `--set=key=value` works too.
    """
    rest, settings = [], []
    position = 0
    while position < len(argv):
        word = argv[position]
        position += 1
        if word == "--":
            return rest + argv[position - 1 :], settings
        if word.startswith("--set="):
            settings.append(word.removeprefix("--set="))
        elif word != "--set":
            rest.append(word)
        else:
            taken = 0
            while position < len(argv) and _is_setting(argv[position]):
                settings.append(argv[position])
                position, taken = position + 1, taken + 1
            if not taken:
                raise UserInputError(
                    "--set takes KEY=VALUE words, e.g. --set units=32 cell=lstm"
                )
    return rest, settings


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
        default=default([]),
        metavar="KEY=VALUE",
        help="override settings of the task's Config (only key=value words)",
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
    parser.add_argument(
        "--init-from",
        default=default(None),
        metavar="RUN_OR_EXPORT",
        help="start from the weights and preprocessing of a run (folder or name) "
        "or an export folder",
    )
    parser.add_argument("--model", default=default(None), help="export folder to use")
    parser.add_argument(
        "--input",
        dest="input_file",
        default=default(None),
        metavar="FILE",
        help="predict: a file with one input per line",
    )


def parser_for(name: str) -> argparse.ArgumentParser:
    info = tasks.info(name)
    parser = argparse.ArgumentParser(
        prog=f"python -m pipelines.{name}",
        description=f"{name}: {info.summary}. With no command: train, evaluate, "
        "export, then predict a few test inputs with the export.",
    )
    _common(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command, help_text in COMMANDS.items():
        sub = commands.add_parser(command, help=help_text, description=help_text)
        _common(sub, suppress=True)
        if command == "predict":
            sub.add_argument("inputs", nargs="*", help=info.input_help)
    return parser


def _given(args, option: str) -> bool:
    name = "input_file" if option == "--input" else option.strip("-").replace("-", "_")
    return bool(getattr(args, name, None))


def refuse_unused(args) -> None:
    """One line for options the command would silently ignore."""
    used = OPTIONS[args.command]
    unused = [
        option
        for option in ("--data", "--config", "--set", "--smoke", "--run", "--model")
        + ("--input", "--init-from")
        if option not in used and _given(args, option)
    ]
    if unused:
        command = args.command or "a full run"
        why = WHY_NOT.get(args.command, "it trains a new export")
        raise UserInputError(f"{command} takes no {', '.join(unused)}: {why}")
    if args.command != "predict" and getattr(args, "inputs", None):
        raise UserInputError(f"unexpected arguments: {' '.join(args.inputs)}")


def parse(name: str, argv: list[str]):
    """The parsed arguments of `argv`, checked against what the command uses."""
    rest, settings = split_settings(argv)
    args = parser_for(name).parse_args(rest)
    args.set = settings
    refuse_unused(args)
    return args


def main(task, argv=None) -> None:
    """Runs the command line of `task` (a task name or a Task) and exits."""
    try:
        name = task if isinstance(task, str) else task.name
        args = parse(name, sys.argv[1:] if argv is None else argv)
        from pipelines.runner.quiet import import_tensorflow_quietly

        import_tensorflow_quietly()
        from pipelines.runner import commands

        task = tasks.get(name) if isinstance(task, str) else task
        command = (
            commands.run_all
            if args.command is None
            else getattr(commands, args.command)
        )
        command(task, args)
        code = 0
    except UserInputError as error:
        print(f"error: {error}", file=sys.stderr)
        code = 2
    except Interrupted as interruption:
        print(f"interrupted: {interruption}", file=sys.stderr)
        code = 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)
