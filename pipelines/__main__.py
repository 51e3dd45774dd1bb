"""`python -m pipelines`: lists the tasks; `python -m pipelines TASK ...` runs one."""

import sys

from tasks import TASKS


def listing() -> str:
    from pipelines.runner.cli import COMMANDS

    lines = [
        "tasks (run one with: python -m pipelines.<task> [COMMAND] [options]):",
        "",
    ]
    lines += [f"  {name:<22} {info.summary}" for name, info in TASKS.items()]
    lines += [
        "",
        "commands (none: train, evaluate, export, then predict a few test inputs):",
        "",
    ]
    lines += [f"  {name:<22} {text}" for name, text in COMMANDS.items()]
    lines += [
        "",
        "common options: --data SPEC --config FILE.toml --set KEY=VALUE ... --smoke",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if not argv or argv[0] in {"-h", "--help", "list"}:
        print(listing())
        return
    from pipelines.runner import main as run_task

    run_task(argv[0], argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
