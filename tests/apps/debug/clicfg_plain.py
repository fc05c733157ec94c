# A plain @clicfg script, without @unsafe_debug: --debug alone must give the post-mortem.
# tests/debug copies it to process.py and asserts line numbers in it.
from naga import clicfg


class Config:
    param = 7
    save_dir = "out"


@clicfg(config_class=Config)
def main(cfg: Config) -> float:
    a = cfg.param - 7
    return cfg.param / a


if __name__ == "__main__":
    main()
