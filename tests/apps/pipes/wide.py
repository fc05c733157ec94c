"""A @clicfg script whose config is wide: its --help, --cfg and run.lock outgrow a pipe's buffer.

tests/commands/test_pipes.py reads the first line of each and closes the pipe, as `| head -1`.
"""

from naga import clicfg

#: 10,000 keys: over 200 KiB of YAML in --help, --cfg, `naga show` and its JSON, three times
#: what a pipe (64 KiB) and `head` (a few KiB) take in before the reader is gone.
KEYS = {f"key_{i:04d}": f"value {i}" for i in range(10_000)}


@clicfg(config_class={**KEYS, "save_dir": "results/wide"})
def main(cfg: dict[str, str]) -> None:
    """Do nothing with a very wide config."""


if __name__ == "__main__":
    main()
