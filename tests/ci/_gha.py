"""Run the `run:` steps of a GitHub Actions job locally, the way a runner would.

Enough of GitHub's semantics for our own workflow files: `${{ }}` expressions over inputs,
secrets, env, step outputs, github.action_path and runner.temp; `if:` conditions with
`always()`/`success()`/`failure()`/`cancelled()`, `!`, `&&`, `||`, `==`, `!=` and
parentheses; bash run as `bash --noprofile --norc -eo pipefail`; GITHUB_OUTPUT,
GITHUB_STEP_SUMMARY, GITHUB_PATH, GITHUB_ENV files. An expression form this module does not
know fails the test, so a new expression in a workflow cannot go untested by accident.
Steps that `uses:` another action cannot run here; they are recorded with their evaluated
`with:` so a test can check what they would have been given.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Value = str | bool | float | None


class ExpressionError(AssertionError):
    """An expression the harness does not understand or that refers to something undeclared."""


@dataclass
class Context:
    """What expressions can see."""

    inputs: dict[str, Value]
    secrets: dict[str, str] = field(default_factory=dict)
    declared_secrets: set[str] | None = None  # None: `secrets.*` is not available (an action)
    env: dict[str, str] = field(default_factory=dict)
    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    step_ids: set[str] = field(default_factory=set)
    github: dict[str, str] = field(default_factory=dict)
    runner: dict[str, str] = field(default_factory=dict)
    failed: bool = False

    def lookup(self, path: str) -> Value:
        parts = path.split(".")
        head, rest = parts[0], parts[1:]
        if head == "inputs" and len(rest) == 1:
            if rest[0] not in self.inputs:
                raise ExpressionError(f"undeclared input {rest[0]!r}")
            return self.inputs[rest[0]]
        if head == "secrets" and len(rest) == 1:
            if self.declared_secrets is None or rest[0] not in self.declared_secrets:
                raise ExpressionError(f"undeclared secret {rest[0]!r}")
            return self.secrets.get(rest[0], "")
        if head == "steps" and len(rest) == 3 and rest[1] == "outputs":
            if rest[0] not in self.step_ids:
                raise ExpressionError(f"no step with id {rest[0]!r}")
            return self.steps.get(rest[0], {}).get(rest[2], "")
        if head == "env" and len(rest) == 1:
            return self.env.get(rest[0], "")
        if head in ("github", "runner") and len(rest) == 1:
            table = self.github if head == "github" else self.runner
            if rest[0] not in table:
                raise ExpressionError(f"{path} is not provided by the harness")
            return table[rest[0]]
        raise ExpressionError(f"unsupported expression {path!r}")


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\))"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*(?:\(\))?))"
)


def _tokens(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"cannot parse {expr!r} at {expr[pos:]!r}")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _number(value: Value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    try:
        return float(value) if value.strip() else 0.0
    except ValueError:
        return math.nan


def _equal(a: Value, b: Value) -> bool:
    if type(a) is type(b):
        if isinstance(a, str) and isinstance(b, str):
            return a.casefold() == b.casefold()  # GitHub compares strings ignoring case
        return a == b
    return _number(a) == _number(b)


def truthy(value: Value) -> bool:
    """GitHub's truthiness: false, 0, NaN, '' and null are falsy."""
    if isinstance(value, float):
        return value != 0 and not math.isnan(value)
    return bool(value)


class _Parser:
    def __init__(self, expr: str, ctx: Context) -> None:
        self.toks = _tokens(expr)
        self.i = 0
        self.ctx = ctx
        self.expr = expr

    def parse(self) -> Value:
        value = self.or_()
        if self.i != len(self.toks):
            raise ExpressionError(f"trailing tokens in {self.expr!r}")
        return value

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ExpressionError(f"unexpected end of {self.expr!r}")
        self.i += 1
        return tok

    def or_(self) -> Value:
        left = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            left = left if truthy(left) else right
        return left

    def and_(self) -> Value:
        left = self.cmp()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.cmp()
            left = right if truthy(left) else left
        return left

    def cmp(self) -> Value:
        left = self.unary()
        tok = self.peek()
        if tok in (("op", "=="), ("op", "!=")):
            self.take()
            right = self.unary()
            same = _equal(left, right)
            return same if tok == ("op", "==") else not same
        return left

    def unary(self) -> Value:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.atom()

    def atom(self) -> Value:
        kind, text = self.take()
        if kind == "op" and text == "(":
            value = self.or_()
            if self.take() != ("op", ")"):
                raise ExpressionError(f"unbalanced parentheses in {self.expr!r}")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if kind == "name":
            if text in ("true", "false"):
                return text == "true"
            if text == "null":
                return None
            if text.endswith("()"):
                fn = text[:-2]
                if fn == "always":
                    return True
                if fn == "success":
                    return not self.ctx.failed
                if fn == "failure":
                    return self.ctx.failed
                if fn == "cancelled":
                    return False
                raise ExpressionError(f"unsupported function {text}")
            return self.ctx.lookup(text)
        raise ExpressionError(f"unexpected {text!r} in {self.expr!r}")


def evaluate(expr: str, ctx: Context) -> Value:
    """The value of one expression (without the `${{ }}`)."""
    return _Parser(expr, ctx).parse()


def as_text(value: Value) -> str:
    """How GitHub turns a value into a string inside `${{ }}` interpolation."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return value


_INTERP = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def interpolate(text: str, ctx: Context) -> str:
    """`text` with every `${{ expr }}` replaced by its value."""
    return _INTERP.sub(lambda m: as_text(evaluate(m.group(1), ctx)), text)


def condition(text: Any, ctx: Context) -> bool:
    """An `if:` value: implicitly `success() && (...)` unless it calls a status function."""
    if text is None:
        return not ctx.failed
    if isinstance(text, bool):
        return text and not ctx.failed
    expr = str(text).strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", expr, re.S)
    if m:
        expr = m.group(1)
    value = truthy(evaluate(expr, ctx))
    if not re.search(r"\b(always|success|failure|cancelled)\(\)", expr):
        value = value and not ctx.failed
    return value


@dataclass
class StepResult:
    name: str
    status: str  # "ran", "skipped" (if: false), "not-run" (harness skip list), "external" (uses:)
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    with_: dict[str, str] = field(default_factory=dict)
    uses: str = ""


@dataclass
class JobResult:
    steps: list[StepResult]
    failed: bool
    ctx: Context

    def step(self, name: str) -> StepResult:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def summary(self) -> str:
        return "".join(s.summary for s in self.steps)

    def log(self) -> str:
        return "\n".join(
            f"--- {s.name} [{s.status} rc={s.returncode}]\n{s.stdout}{s.stderr}" for s in self.steps
        )


def _parse_output_file(path: Path) -> dict[str, str]:
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)
            outputs[key] = "\n".join(lines[i + 1 : j])
            i = j + 1
            continue
        if "=" in line:
            key, value = line.split("=", 1)
            outputs[key] = value
        i += 1
    return outputs


def workflow_call(spec: dict[Any, Any]) -> dict[str, Any]:
    """The `on: workflow_call` mapping of a reusable workflow."""
    on = spec["on"] if "on" in spec else spec[True]  # PyYAML reads the key `on` as True
    call: dict[str, Any] = on["workflow_call"]
    return call


def declared_inputs(spec: dict[Any, Any], *, workflow: bool) -> dict[str, dict[str, Any]]:
    """The `inputs:` of an action or of a reusable workflow's workflow_call."""
    if workflow:
        return dict(workflow_call(spec).get("inputs") or {})
    return dict(spec.get("inputs") or {})


def run_steps(
    steps: list[dict[str, Any]],
    ctx: Context,
    *,
    workspace: Path,
    base_env: dict[str, str],
    default_shell: str | None,
    skip: set[str],
    timeout: float = 180.0,
) -> JobResult:
    """Run a job's steps in order; `skip` names the `run:` steps to leave out (must exist)."""
    names = {s.get("name") for s in steps}
    missing = skip - names
    if missing:
        raise AssertionError(f"steps to skip not found: {sorted(missing)}")
    ctx.step_ids = {s["id"] for s in steps if "id" in s}
    runner_temp = Path(ctx.runner["temp"])
    results: list[StepResult] = []
    for index, step in enumerate(steps):
        name = step.get("name") or step.get("uses") or f"step {index}"
        if not condition(step.get("if"), ctx):
            results.append(StepResult(name, "skipped"))
            continue
        step_env = {k: interpolate(str(v), ctx) for k, v in (step.get("env") or {}).items()}
        if "uses" in step:
            with_ = {k: interpolate(str(v), ctx) for k, v in (step.get("with") or {}).items()}
            results.append(StepResult(name, "external", with_=with_, uses=step["uses"]))
            continue
        if name in skip:
            results.append(StepResult(name, "not-run"))
            continue
        shell = step.get("shell") or default_shell
        if shell != "bash":
            raise AssertionError(f"step {name!r}: shell {shell!r}; the harness runs only bash")
        script = interpolate(step["run"], ctx)
        files = {n: runner_temp / f"{n}-{index}" for n in ("output", "summary", "path", "envfile")}
        for f in files.values():
            f.write_text("", encoding="utf-8")
        script_file = runner_temp / f"step-{index}.sh"
        script_file.write_text(script, encoding="utf-8")
        env = {**base_env, **ctx.env, **step_env}
        env.update(
            GITHUB_OUTPUT=str(files["output"]),
            GITHUB_STEP_SUMMARY=str(files["summary"]),
            GITHUB_PATH=str(files["path"]),
            GITHUB_ENV=str(files["envfile"]),
            GITHUB_WORKSPACE=str(workspace),
            RUNNER_TEMP=str(runner_temp),
        )
        if "action_path" in ctx.github:
            env["GITHUB_ACTION_PATH"] = ctx.github["action_path"]
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        outputs = _parse_output_file(files["output"])
        if "id" in step:
            ctx.steps[step["id"]] = outputs
        ctx.env.update(_parse_output_file(files["envfile"]))
        if proc.returncode != 0:
            ctx.failed = True
        results.append(
            StepResult(
                name,
                "ran",
                proc.returncode,
                proc.stdout,
                proc.stderr,
                outputs,
                files["summary"].read_text(encoding="utf-8"),
            )
        )
    return JobResult(results, ctx.failed, ctx)


def load_yaml(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def clean_env(venv_bin: Path) -> dict[str, str]:
    """The test's environment without GitHub's or teleconform's variables, venv bin first."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "RUNNER_", "TELECONFORM_"))
    }
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    return env
