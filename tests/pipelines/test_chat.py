"""The terminal chat: commands, piped and interactive input, input that must not
break it."""

import io
import os
import select
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipelines.chat import HISTORY_SEPARATOR, Conversation, chat

PROJECT = Path(__file__).resolve().parents[2]


class Echo:
    """Answers with the number of turns it was shown and the last turn reversed,
    and keeps every history it was given."""

    def __init__(self, fail_on: str | None = None):
        self.histories: list[str] = []
        self.fail_on = fail_on

    def __call__(self, history: str) -> str:
        self.histories.append(history)
        turns = history.split(HISTORY_SEPARATOR)
        if turns[-1] == self.fail_on:
            raise RuntimeError("the model\nfailed")
        return f"{len(turns)}:{turns[-1][::-1]}"


def run(text: str, reply=None, **options):
    reply = Echo() if reply is None else reply
    stdin, stdout = io.StringIO(text), io.StringIO()
    count = chat(reply, stdin=stdin, stdout=stdout, **options)
    return count, stdout.getvalue().splitlines(), reply


def test_history_joins_the_last_turns_on_one_line_each():
    conversation = Conversation()
    for turn in ["hi", "hello\nthere", "bye"]:
        conversation.add(turn)
    assert conversation.turns == ("hi", "hello\nthere", "bye")
    assert conversation.history() == "hi\nhello there\nbye"
    assert conversation.history(2) == "hello there\nbye"
    assert conversation.history(10) == conversation.history()
    conversation.reset()
    assert conversation.turns == () and conversation.history() == ""
    with pytest.raises(ValueError, match="max_turns"):
        conversation.history(0)


def test_piped_turns_are_answered_with_the_whole_conversation():
    count, lines, echo = run("hello\nhow are you\nbye\n")
    assert count == 3
    assert lines == ["bot: 1:olleh", "bot: 3:uoy era woh", "bot: 5:eyb"]
    assert echo.histories == [
        "hello",
        "hello\n1:olleh\nhow are you",
        "hello\n1:olleh\nhow are you\n3:uoy era woh\nbye",
    ]


def test_max_turns_limits_what_the_reply_sees():
    _, _, echo = run("a\nb\nc\n", max_turns=3)
    assert echo.histories == ["a", "a\n1:a\nb", "b\n3:b\nc"]


def test_reset_forgets_the_conversation():
    count, lines, echo = run("first\n/reset\nsecond\n")
    assert count == 2
    assert echo.histories == ["first", "second"]
    assert lines[0] == "bot: 1:tsrif"
    assert "forgotten" in lines[1]
    assert lines[2] == "bot: 1:dnoces"


def test_history_lists_the_numbered_turns():
    _, lines, _ = run("/history\nab\ncd\n/HISTORY\n")
    assert lines[0] == "(no turns yet)"
    assert lines[-4:] == ["1. you: ab", "2. bot: 1:ba", "3. you: cd", "4. bot: 3:dc"]


def test_help_and_unknown_commands():
    count, lines, echo = run("/help\n/frobnicate now\n//shrug\n")
    assert count == 1 and echo.histories == ["/shrug"]
    text = "\n".join(lines)
    for command in ("/history", "/reset", "/help", "/quit"):
        assert command in text
    [hint] = [line for line in lines if "/frobnicate" in line]
    assert "/help" in hint
    assert lines[-1] == "bot: 1:gurhs/"


def test_blank_lines_are_ignored():
    count, lines, echo = run("\n   \n\t\n  hi  \n\n\r\n")
    assert count == 1
    assert lines == ["bot: 1:ih"]
    assert echo.histories == ["hi"]


def test_a_very_long_line_is_cut_and_answered():
    count, lines, echo = run("x" * 100_000 + "\nok\n")
    assert count == 2
    assert echo.histories[0] == "x" * 1000
    assert lines[0] == "(your message was cut to 1000 characters)"
    assert lines[1] == "bot: 1:" + "x" * 1000
    assert lines[2] == "bot: 3:ko"
    _, lines, echo = run("  " + "y" * 50 + "  \n", max_turn_chars=50)
    assert echo.histories == ["y" * 50] and len(lines) == 1


def test_the_end_of_input_without_a_newline():
    count, lines, _ = run("hi\nthere")
    assert count == 2
    assert lines == ["bot: 1:ih", "bot: 3:ereht"]
    count, lines, _ = run("")
    assert (count, lines) == (0, [])


def test_an_error_in_reply_is_reported_and_the_chat_goes_on():
    count, lines, echo = run("a\nboom\nfine\n", reply=Echo(fail_on="boom"))
    assert count == 2
    assert lines[0] == "bot: 1:a"
    assert "RuntimeError: the model failed" in lines[1]
    assert lines[2] == "bot: 3:enif"
    # The failed message is not part of the conversation.
    assert echo.histories[-1] == "a\n1:a\nfine"


def test_empty_and_odd_replies():
    replies = iter(["", None, b"caf\xc3\xa9", "two\nlines", 42])
    count, lines, _ = run("a\nb\nc\nd\ne\n", reply=lambda history: next(replies))
    assert count == 5
    assert lines == [
        "bot: (no reply)",
        "bot: (no reply)",
        "bot: café",
        "bot: two lines",
        "bot: 42",
    ]


def test_quit_stops_reading():
    for command in ("/quit", "/exit", "/Quit please"):
        stdin, stdout = io.StringIO(f"a\n{command}\nb\n"), io.StringIO()
        assert chat(Echo(), stdin=stdin, stdout=stdout) == 1
        assert stdout.getvalue() == "bot: 1:a\n"
        assert stdin.read() == "b\n"


def test_ctrl_c_ends_with_a_newline():
    class Interrupting(io.StringIO):
        def readline(self, size=-1):
            line = super().readline(size)
            if not line:
                raise KeyboardInterrupt
            return line

    stdout = io.StringIO()
    assert chat(Echo(), stdin=Interrupting("hi\n"), stdout=stdout) == 1
    assert stdout.getvalue() == "bot: 1:ih\n\n"


def test_undecodable_bytes_are_replaced():
    stdin = io.TextIOWrapper(io.BytesIO(b"caf\xe9\n\xff\xfe\nok\n"), encoding="utf-8")
    echo = Echo()
    stdout = io.StringIO()
    assert chat(echo, stdin=stdin, stdout=stdout) == 3
    assert echo.histories[0] == "caf\ufffd"
    assert stdout.getvalue().splitlines()[-1] == "bot: 5:ko"
    # The bytes under the stream are left open for their owner.
    assert not stdin.buffer.closed


def test_a_stdout_that_cannot_encode_the_reply():
    buffer = io.BytesIO()
    stdout = io.TextIOWrapper(buffer, encoding="ascii")
    assert chat(lambda history: "café ☕", stdin=io.StringIO("hi\n"), stdout=stdout)
    assert buffer.getvalue() == b"bot: caf? ?\n"


def test_invalid_limits_are_refused():
    with pytest.raises(ValueError, match="max_turn_chars"):
        chat(Echo(), stdin=io.StringIO(""), stdout=io.StringIO(), max_turn_chars=0)
    with pytest.raises(ValueError, match="max_turns"):
        chat(Echo(), stdin=io.StringIO(""), stdout=io.StringIO(), max_turns=0)


SCRIPT = textwrap.dedent(
    """
    import sys
    from pipelines.chat import chat

    if sys.argv[1:] == ["terminal"]:
        import fcntl, termios
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the pty becomes this process's terminal
    replies = chat(lambda history: history.split("\\n")[-1].upper())
    print(f"replies={replies}", file=sys.stderr)
    """
)


def _environment():
    path = os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path, PYTHONIOENCODING="utf-8")


def test_real_stdin_with_undecodable_bytes():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=b"caf\xe9\n\xff\nok",
        capture_output=True,
        env=_environment(),
        cwd=PROJECT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stdout.decode("utf-8").splitlines() == [
        "bot: CAF\ufffd",
        "bot: \ufffd",
        "bot: OK",
    ]
    assert b"replies=3" in result.stderr


class Terminal:
    """A subprocess chatting on a pseudo-terminal."""

    def __init__(self, *args: str):
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, *args],
            stdin=slave,
            stdout=slave,
            stderr=subprocess.PIPE,
            env=_environment(),
            cwd=PROJECT,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = b""

    def expect(self, text: bytes, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"waited for {text!r}, saw {self.seen!r}"
            if select.select([self.master], [], [], left)[0]:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the other side closed
                    chunk = b""
                assert chunk, f"ended before {text!r}, saw {self.seen!r}"
                self.seen += chunk

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def finish(self) -> tuple[int, bytes]:
        """The exit code and the error output; what is left to read is read."""
        try:
            code = self.process.wait(timeout=30)
            while select.select([self.master], [], [], 0.5)[0]:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the other side closed
                    break
                if not chunk:
                    break
                self.seen += chunk
            return code, self.process.stderr.read()
        finally:
            self.process.kill()
            self.process.stderr.close()
            os.close(self.master)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_terminal_gets_a_prompt_and_ctrl_d_ends():
    terminal = Terminal()
    try:
        terminal.expect(b"Commands:")
        terminal.expect(b"you: ")
        terminal.send(b"hello there\n")
        terminal.expect(b"bot: HELLO THERE\r\nyou: ")
        terminal.send(b"\x04")
    finally:
        code, stderr = terminal.finish()
    assert code == 0, stderr
    assert b"replies=1" in stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_terminal_ctrl_c_ends_cleanly():
    terminal = Terminal("terminal")
    try:
        terminal.expect(b"you: ")
        terminal.send(b"hi\n")
        terminal.expect(b"bot: HI\r\nyou: ")
        terminal.send(b"\x03")
    finally:
        code, stderr = terminal.finish()
    assert code == 0, stderr
    assert terminal.seen.endswith(b"\r\n"), terminal.seen
    assert b"Traceback" not in stderr and b"replies=1" in stderr
