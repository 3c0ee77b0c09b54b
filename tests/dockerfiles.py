"""Image recipes read with BuildKit's own Dockerfile parser (the `dockerfile` wheel), so
recipe tests check instructions, their arguments and their stages, not substrings."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import dockerfile


@dataclass(frozen=True)
class Stage:
    """One `FROM` stage and its instructions, in order."""

    name: str | None
    instructions: tuple[dockerfile.Command, ...]

    def all(self, instruction: str) -> list[dockerfile.Command]:
        return [command for command in self.instructions if command.cmd == instruction.upper()]

    def last(self, instruction: str) -> dockerfile.Command:
        found = self.all(instruction)
        assert found, f"stage {self.name} has no {instruction}"
        return found[-1]

    def args(self) -> dict[str, str]:
        """The stage's ARG defaults."""
        pairs = (value.split("=", 1) for command in self.all("ARG") for value in command.value)
        return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}

    def env(self) -> dict[str, str]:
        values = [value for command in self.all("ENV") for value in command.value]
        return dict(zip(values[::2], values[1::2], strict=True))

    def resolve(self, text: str) -> str:
        """`text` with `${NAME}` and `$NAME` replaced by the stage's ARG defaults."""
        args = self.args()
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m.group(1) or m.group(2)], text)

    def shell_commands(self) -> list[list[str]]:
        """Every command of the stage's shell-form RUNs, split at `&&` into argument lists."""
        commands = []
        for run in self.all("RUN"):
            for part in " ".join(run.value).split("&&"):
                commands.append(shlex.split(part))
        return commands


def stages(path: Path) -> list[Stage]:
    """The recipe's stages; instructions before the first FROM (global ARGs) are dropped."""
    found: list[Stage] = []
    for command in dockerfile.parse_file(str(path)):
        if command.cmd == "FROM":
            value = command.value
            name = value[2] if len(value) == 3 and value[1].upper() == "AS" else None
            found.append(Stage(name, ()))
        elif found:
            found[-1] = Stage(found[-1].name, (*found[-1].instructions, command))
    return found


def runtime_user(stage: Stage) -> tuple[int, int]:
    """The numeric uid and gid of the stage's last USER; a name or a missing gid fails."""
    user = stage.resolve(stage.last("USER").value[0])
    uid, _, gid = user.partition(":")
    assert uid.isdigit(), f"USER {user} is not a numeric uid:gid"
    assert gid.isdigit(), f"USER {user} is not a numeric uid:gid"
    return int(uid), int(gid)
