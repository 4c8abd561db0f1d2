"""Errors a user can act on: each renders as one line naming where the problem is."""

# C0 and C1 controls and the Unicode line and paragraph separators: anything splitlines() breaks at
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(32), *range(127, 160))} | {0x2028: "\\u2028", 0x2029: "\\u2029"}
_CONTROL |= {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


class InputError(Exception):
    """Bad input (scenario file, option value). The CLI prints str(error) and exits with 2.

    A value quoted in the message (a name, a cell from a file) may hold a line break or another
    control character: it is escaped, so the message stays one line."""

    def __str__(self) -> str:
        return super().__str__().translate(_CONTROL)
