"""scripts/lpgresults.py: what lpg's Python scripts share. Reading an `lpg eval` results.json,
the random policy's returns from one, the A2C-normalised score, and the gnuplot terminal for an
output file (pngcairo where gnuplot has it, else png; svg by extension). The scripts import it
from their own folder; bash scripts ask for the terminal line with

    python3 scripts/lpgresults.py terminal <out.png|out.svg> <width> <height>
"""
import json
import math
import subprocess
import sys


class ResultsError(Exception):
    """A file that is not what a script needs; the message names it."""


def load_runs(path):
    """{environment name: {method: result}} of an `lpg eval` results.json, in the file's order."""
    try:
        with open(path) as f:
            run = json.load(f)
        return {env["name"]: env["results"] for env in run["environments"]}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ResultsError(f"{path}: not an lpg eval results.json ({e})")


def method_names(path):
    """The methods of a results.json in the order of its "methods" list."""
    try:
        with open(path) as f:
            return [m["name"] for m in json.load(f)["methods"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ResultsError(f"{path}: not an lpg eval results.json ({e})")


def random_returns(path):
    """{environment: (final return, its se)} from an `lpg eval` whose one rule is the random
    policy (the untrained agent, alpha_lr 0): results/minatar/random_policy/results.json."""
    out = {}
    for name, res in load_runs(path).items():
        rules = [m for m in res if m != "a2c"]
        if len(rules) != 1:
            raise ResultsError(f"{path}: '{name}' must hold exactly one rule, the random policy")
        r = res[rules[0]]
        if r["failed"]:
            raise ResultsError(f"{path}: the random policy's run on '{name}' failed")
        out[name] = (r["final_return"], r["final_return_se"])
    return out


def normalised(rule, a2c, random):
    """(rule - random) / (A2C - random) on final returns (0: random play, 1: A2C's return), and
    its standard error sqrt(se_rule^2 + score^2 se_A2C^2) / |A2C - random| (the random policy's
    return taken as exact)."""
    span = a2c["final_return"] - random
    score = (rule["final_return"] - random) / span
    se = math.sqrt(rule["final_return_se"] ** 2 + (score * a2c["final_return_se"]) ** 2) / abs(span)
    return score, se


def gnuplot_terminal(out, width, height):
    """The gnuplot `set terminal` line for out (.png or .svg) at width x height pixels."""
    if out.endswith(".svg"):
        return f"set terminal svg size {width},{height} dynamic font 'Sans,11' background '#ffffff'"
    if not out.endswith(".png"):
        raise ResultsError(f"{out}: the output must end in .png or .svg")
    try:
        probe = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
    except OSError:
        raise ResultsError("gnuplot not found (apt-get install gnuplot-nox)")
    if "pngcairo" in probe.stdout + probe.stderr:
        return f"set terminal pngcairo size {width},{height} font 'Sans,10' background '#ffffff'"
    return f"set terminal png size {width},{height} background '#ffffff'"


def main(argv):
    if len(argv) == 4 and argv[0] == "terminal":
        try:
            print(gnuplot_terminal(argv[1], int(argv[2]), int(argv[3])))
        except (ResultsError, ValueError) as e:
            sys.exit(f"lpgresults: {e}")
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
