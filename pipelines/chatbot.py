"""A multi-turn chatbot on real human chats, end to end, and a chat to talk to it.

Run it with no arguments to train a hierarchical encoder-decoder (HRED,
Serban et al. 2016: a bidirectional LSTM over each turn, a context LSTM over
the turns, an attention decoder) on the bundled Chit-Chat Challenge
conversations, score it on the held-out test split (perplexity, BLEU-2,
chrF, distinct-1/2, blandness) beside TF-IDF retrieval and the most frequent
reply, and export a SavedModel that answers a history string (turns joined
by newlines)::

    python -m pipelines.chatbot
    tensorboard --logdir saved_models/chatbot/runs
    python -m pipelines.chatbot chat

`chat [--model EXPORT] [--output DIR]` talks with an export (default: the
latest) in the terminal, or answers the lines piped to it: `/reset`,
`/history`, `/quit`. Variants: ``--set context_turns=1`` (the single-turn
ablation), ``decoding=beam``; the small domain set with ``--data
chatterbot/psychology``, fine-tuned from a run with ``train --init-from
RUN_OR_EXPORT``.
"""

import argparse
import sys

from pipelines.runner import main


def chat_main(argv: list[str]) -> int:
    """`chat [--model EXPORT] [--output DIR]`: the chat loop over an export."""
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.chatbot chat",
        description="talk with a chatbot export (default: the latest); lines "
        "piped to it are answered one by one",
    )
    parser.add_argument("--model", default=None, help="export folder to use")
    parser.add_argument(
        "--output", default="saved_models", help="folder of exports and runs"
    )
    args = parser.parse_args(argv)
    from pipelines.runner.quiet import import_tensorflow_quietly
    from recurrent.errors import UserInputError

    try:
        import_tensorflow_quietly()
        reply, turns = _export_reply(args)
    except UserInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from pipelines.chat import chat

    chat(reply, max_turns=turns)
    return 0


def _export_reply(args):
    """The reply function of the chosen export and the turns it reads."""
    from pathlib import Path

    import tensorflow as tf

    from pipelines.runner.export import load_export
    from pipelines.runner.layout import Layout

    path = (
        Path(args.model)
        if args.model
        else Layout(Path(args.output), "chatbot").latest_export()
    )
    loaded, metadata = load_export(path, "chatbot")

    def reply(history: str) -> str:
        outputs = loaded.reply(tf.constant([history]))
        return outputs["reply"].numpy()[0].decode("utf-8")

    return reply, int(metadata.get("assets", {}).get("context_turns", 0)) or None


if __name__ == "__main__":
    if sys.argv[1:2] == ["chat"]:
        sys.exit(chat_main(sys.argv[2:]))
    main("chatbot")
