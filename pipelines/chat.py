"""Chat with a reply function in the terminal.

    reply = lambda history: ...   # the conversation so far in, the next turn out
    chat(reply)

Each line typed is one turn. The model sees the conversation as one string,
the turns joined with `HISTORY_SEPARATOR`, oldest first, and its answer is
printed as `bot: ...`. Lines that start with `/` are commands (`/help` lists
them); `//text` sends `/text` as a message.

At a terminal a prompt `you: ` and a greeting are shown; with piped input the
output is one line per message, so `printf 'hi\\nhow are you\\n' | ...` gives
two `bot:` lines. The loop never ends on bad input: blank lines are skipped, an
over-long line is cut, undecodable bytes read as U+FFFD, and an error from the
reply function is reported while the conversation goes on. End of input
(Ctrl-D) and Ctrl-C end it cleanly.
"""

import contextlib
import io
import sys
from collections.abc import Callable
from typing import TextIO

HISTORY_SEPARATOR = "\n"

COMMANDS = {
    "/history": "show the conversation so far",
    "/reset": "forget the conversation and start again",
    "/help": "show this list",
    "/quit": "end the chat (also /exit, Ctrl-D or Ctrl-C)",
}
_QUIT = ("/quit", "/exit")
# A long line is read in pieces of this many characters, so only the part
# that is kept sits in memory.
_PIECE = 8192
_MAX_ERROR_CHARS = 300


class Conversation:
    """The turns of one conversation, user and bot alternating, oldest first."""

    def __init__(self):
        self._turns: list[str] = []

    @property
    def turns(self) -> tuple[str, ...]:
        """Every turn, oldest first; even positions are the user's."""
        return tuple(self._turns)

    def add(self, turn: str) -> None:
        """Appends one turn."""
        if not isinstance(turn, str):
            raise TypeError(f"a turn is a string, not {type(turn).__name__}")
        self._turns.append(turn)

    def pop(self) -> str:
        """Removes and returns the latest turn."""
        return self._turns.pop()

    def reset(self) -> None:
        """Forgets every turn."""
        self._turns.clear()

    def history(self, max_turns: int | None = None) -> str:
        """The last `max_turns` turns (all when None) as one string.

        Turns are joined with `HISTORY_SEPARATOR`; a newline inside a turn
        becomes a space, so each line of the history is one turn.
        """
        if max_turns is not None and max_turns < 1:
            raise ValueError(f"max_turns must be at least 1 or None, not {max_turns}")
        turns = self._turns if max_turns is None else self._turns[-max_turns:]
        return HISTORY_SEPARATOR.join(_one_line(turn) for turn in turns)

    def __len__(self) -> int:
        return len(self._turns)


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


def _speaker(position: int) -> str:
    return "you" if position % 2 == 0 else "bot"


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


def _tolerant(stream):
    """`stream`, or a reader over its bytes that decodes bad bytes as U+FFFD.

    Returns the reader and whether it is a new wrapper (to detach at the end,
    which leaves the underlying stream open).
    """
    buffer = getattr(stream, "buffer", None)
    if getattr(stream, "errors", "replace") == "replace" or buffer is None:
        return stream, False
    if not isinstance(buffer, io.BufferedIOBase | io.RawIOBase):
        return stream, False
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return io.TextIOWrapper(buffer, encoding=encoding, errors="replace"), True


def _read_line(stream, max_chars: int) -> tuple[str, bool] | None:
    """The next line, stripped and cut to `max_chars`, and whether it was cut.

    None at the end of input. The rest of an over-long line is read and
    dropped.
    """
    text, cut, read = "", False, False
    while True:
        piece = stream.readline(_PIECE)
        if not piece:
            break
        read = True
        if not cut:
            text = (text + piece).lstrip()
            if len(text.rstrip()) > max_chars:
                text, cut = text[:max_chars], True
        if piece.endswith("\n"):
            break
    return (text.strip(), cut) if read else None


def _as_text(reply) -> str:
    if reply is None:
        return ""
    if isinstance(reply, bytes):
        return reply.decode("utf-8", errors="replace")
    return str(reply)


def _describe(error: Exception) -> str:
    message = _one_line(str(error)).strip()
    if len(message) > _MAX_ERROR_CHARS:
        message = message[:_MAX_ERROR_CHARS] + "..."
    name = type(error).__name__
    return f"{name}: {message}" if message else name


class _Printer:
    """Writes whole lines to `stream`, flushed, never failing on a character
    the stream cannot encode."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> None:
        try:
            self.stream.write(text)
        except UnicodeEncodeError:
            encoding = getattr(self.stream, "encoding", None) or "ascii"
            self.stream.write(text.encode(encoding, "replace").decode(encoding))
        self.stream.flush()

    def line(self, text: str = "") -> None:
        self.write(text + "\n")


def _help_lines() -> list[str]:
    width = max(len(name) for name in COMMANDS)
    lines = [f"  {name:<{width}}  {meaning}" for name, meaning in COMMANDS.items()]
    return ["commands:", *lines, "  //text to send a message that starts with /"]


def chat(
    reply: Callable[[str], str],
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    max_turn_chars: int = 1000,
    max_turns: int | None = None,
) -> int:
    """Reads messages from `stdin` and prints the replies to `stdout`.

    Args:
        reply: called with the conversation so far (`Conversation.history`,
            ending with the new message); returns the bot's turn.
        stdin: where messages are read, one per line; `sys.stdin` when None.
        stdout: where replies are written; `sys.stdout` when None.
        max_turn_chars: a longer message is cut to this many characters.
        max_turns: the model sees only the last this many turns; all when None.

    Returns:
        The number of replies given.
    """
    if max_turn_chars < 1:
        raise ValueError(f"max_turn_chars must be at least 1, not {max_turn_chars}")
    if max_turns is not None and max_turns < 1:
        raise ValueError(f"max_turns must be at least 1 or None, not {max_turns}")
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    reader, wrapped = _tolerant(stdin)
    try:
        return _loop(reply, reader, _Printer(stdout), max_turn_chars, max_turns)
    finally:
        if wrapped:
            reader.detach()


def _loop(reply, reader, out: _Printer, max_turn_chars, max_turns) -> int:
    interactive = _is_terminal(reader)
    conversation = Conversation()
    replies = 0
    try:
        if interactive:
            commands = ", ".join(COMMANDS)
            out.line(
                f"Type a message and press Enter. Commands: {commands} (or Ctrl-D)."
            )
        while True:
            if interactive:
                out.write("you: ")
            try:
                read = _read_line(reader, max_turn_chars)
            except (OSError, ValueError) as error:  # a closed or unreadable stream
                out.line(f"(cannot read input: {_describe(error)})")
                return replies
            if read is None:
                if interactive:
                    out.line()
                return replies
            message, cut = read
            if not message:
                continue
            if message.startswith("/") and not message.startswith("//"):
                command = message.split()[0].lower()
                if command in _QUIT:
                    return replies
                _command(command, conversation, out, max_turns)
                continue
            if message.startswith("//"):
                message = message[1:]
            if cut:
                out.line(f"(your message was cut to {max_turn_chars} characters)")
            conversation.add(message)
            try:
                answer = _as_text(reply(conversation.history(max_turns))).strip()
            except Exception as error:
                conversation.pop()
                out.line(f"(no reply, the message was not kept: {_describe(error)})")
                continue
            conversation.add(answer)
            replies += 1
            out.line("bot: " + (_one_line(answer) or "(no reply)"))
    except KeyboardInterrupt:
        with contextlib.suppress(OSError):
            out.line()
        return replies
    except BrokenPipeError:  # whoever read the replies has gone
        return replies


def _command(command: str, conversation: Conversation, out: _Printer, max_turns):
    if command == "/reset":
        conversation.reset()
        out.line("(conversation forgotten; starting again)")
    elif command == "/history":
        if not conversation.turns:
            out.line("(no turns yet)")
        for position, turn in enumerate(conversation.turns):
            out.line(f"{position + 1}. {_speaker(position)}: {_one_line(turn)}")
        if max_turns is not None and len(conversation) > max_turns:
            out.line(f"(the bot sees the last {max_turns} turns)")
    elif command == "/help":
        for line in _help_lines():
            out.line(line)
    else:
        out.line(f"(unknown command {command}; type /help for the commands)")
